import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/**
 * The state file of an emulation: every thing it makes (directory, tmpfs, image, loop device,
 * mount, throttle rule) is recorded here BEFORE it is made, so whatever a killed run (kill -9,
 * a crash, a power-cut of the process) leaves behind, the next run can find and undo. One file per
 * run, named by pid; a file whose process is gone (pid dead, or reused: the start time differs) is
 * a leftover.
 */
export type Step =
  | { kind: 'dir'; path: string }
  | { kind: 'tmpfs'; mount: string }
  | { kind: 'image'; path: string }
  | { kind: 'mount'; dir: string }
  | { kind: 'throttle'; dev: string; image: string };

interface StateFile {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a live owner from a new process with a reused pid. */
  startTicks: string | null;
  created: string;
  steps: Step[];
}

export const BLKIO = '/sys/fs/cgroup/blkio';
const THROTTLE_FILES = ['read_bps_device', 'write_bps_device', 'read_iops_device', 'write_iops_device'].map((f) => `blkio.throttle.${f}`);

/** Where state files live: /run (tmpfs: gone at reboot, like loop devices and tmpfs mounts). */
export function stateDir(): string {
  return process.env.CHUNKVAULT_EMULATE_STATE_DIR ?? '/run/chunkvault-emulate';
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function startTicks(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isMounted(dir: string): boolean {
  const abs = path.resolve(dir);
  return fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === abs);
}

/** Loop devices (/dev/loopN) whose backing file is `image`. */
export function loopsOf(image: string): string[] {
  try {
    return run('losetup', ['-j', image]).split('\n').filter(Boolean).map((l) => l.split(':')[0]!);
  } catch {
    return [];
  }
}

/** Removes a throttle rule; only while the device still backs our image (loop numbers are reused). */
function unthrottle(s: Extract<Step, { kind: 'throttle' }>): void {
  const ours = loopsOf(s.image).some((d) => {
    try {
      return fs.readFileSync(`/sys/block/${path.basename(d)}/dev`, 'utf8').trim() === s.dev;
    } catch {
      return false;
    }
  });
  if (!ours) return;
  for (const f of THROTTLE_FILES) {
    try {
      fs.writeFileSync(path.join(BLKIO, f), `${s.dev} 0`);
    } catch {
      /* no rule of that kind */
    }
  }
}

function undoStep(s: Step): void {
  if (s.kind === 'mount' || s.kind === 'tmpfs') {
    const dir = s.kind === 'mount' ? s.dir : s.mount;
    if (fs.existsSync(dir) && isMounted(dir)) {
      try {
        run('umount', [dir]);
      } catch {
        run('umount', ['-l', dir]);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  } else if (s.kind === 'image') {
    for (const dev of loopsOf(s.path)) run('losetup', ['-d', dev]);
    fs.rmSync(s.path, { force: true });
  } else if (s.kind === 'dir') fs.rmSync(s.path, { recursive: true, force: true });
  else unthrottle(s);
}

/**
 * Undoes recorded steps: first every throttle (so unmounting flushes at full speed), then the rest
 * in reverse order of creation. Best effort: every step is tried; the failures are returned.
 */
export function undoSteps(steps: readonly Step[]): string[] {
  const errors: string[] = [];
  const order = [...steps.filter((s) => s.kind === 'throttle'), ...[...steps].reverse().filter((s) => s.kind !== 'throttle')];
  for (const s of order) {
    try {
      undoStep(s);
    } catch (err) {
      errors.push(`${s.kind} ${JSON.stringify(s)}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return errors;
}

/** The live record of one emulation; `record` is durable before the caller acts. */
export class EmulationState {
  readonly file: string;
  private readonly state: StateFile;
  constructor() {
    fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
    this.file = path.join(stateDir(), `${process.pid}-${Date.now().toString(36)}.json`);
    this.state = { pid: process.pid, startTicks: startTicks(process.pid), created: new Date().toISOString(), steps: [] };
    this.write();
  }
  get steps(): readonly Step[] {
    return this.state.steps;
  }
  record(step: Step): void {
    this.state.steps.push(step);
    this.write();
  }
  /** Undoes everything and removes the state file (kept, with the failures, when a step fails). */
  undo(): string[] {
    const errors = undoSteps(this.state.steps);
    if (!errors.length) fs.rmSync(this.file, { force: true });
    return errors;
  }
  private write(): void {
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state, null, 1));
    fs.renameSync(tmp, this.file);
  }
}

/**
 * Undoes what killed runs left behind: every state file whose owner is gone. Returns one line per
 * leftover cleaned (for the log and the report). Files of live runs are left alone.
 */
export function cleanLeftovers(): string[] {
  const dir = stateDir();
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, name);
    let st: StateFile;
    try {
      st = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
    } catch {
      continue; // being written by a live run (rename makes this rare) or not ours
    }
    const alive = st.startTicks !== null && startTicks(st.pid) === st.startTicks;
    if (alive) continue;
    const errors = undoSteps(st.steps);
    if (!errors.length) fs.rmSync(file, { force: true });
    out.push(`cleaned up after killed run pid ${st.pid} (${st.created}): ${st.steps.length} step(s) undone${errors.length ? `; failed: ${errors.join('; ')}` : ''}`);
  }
  return out;
}
