import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, ROOT, type CliResult } from '../helpers/cli.js';

/** Where the fault layer is: preloaded with `node --import` into the CLI child. */
export const FAULT_LAYER = path.join(ROOT, 'test/support/fault-layer.mjs');

export interface Faults {
  match?: string;
  failNthWrite?: number;
  shortWrites?: boolean;
  enospcAtByte?: number;
  dir?: string;
  crashAtSync?: number;
  crashBeforeSync?: number;
}

/** Runs the CLI with the fault layer loaded and configured; a crash shows as signal SIGKILL. */
export function runCliFaulty(args: string[], faults: Faults, env: Record<string, string | undefined> = {}): CliResult & { signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, ['--import', FAULT_LAYER, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CHUNKVAULT_HOME: undefined, CV_FAULTS: JSON.stringify(faults), ...env },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, errLines: r.stderr.split('\n').filter((l) => l.trim() !== '') };
}

/** Durability points a run went through (the fault layer claims one file per point). */
export function countSyncs(dir: string): number {
  const d = path.join(dir, 'syncs');
  return fs.existsSync(d) ? fs.readdirSync(d).length : 0;
}

interface Rec {
  op: string;
  path?: string;
  to?: string;
  ino?: number;
  pino?: number;
  pto?: number;
  dir?: boolean;
  size?: number;
  created?: boolean;
  saved?: string;
}

const exists = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;

/**
 * Brings the files under `roots` to what survives the crash the fault layer simulated (its
 * header states the model): undoes, newest first, every name operation whose directory was not
 * fsynced after it, then cuts every file back to its size at its last sync.
 * `persists` plays the file system that happened to write some non-durable name operations
 * anyway (POSIX does not order them): those are kept, e.g. every removal outside points/.
 * Returns how many name operations were undone and files cut.
 */
export function rollBack(dir: string, roots: string[], persists: (op: { op: string; path: string }) => boolean = () => false): { undone: number; cut: number } {
  const recs = fs
    .readFileSync(path.join(dir, 'io.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
  const syncedDirAfter = (i: number, ino: number | undefined) => ino === undefined || recs.some((r, j) => j > i && r.op === 'sync' && r.dir && r.ino === ino);
  let undone = 0;
  for (let i = recs.length - 1; i >= 0; i--) {
    const r = recs[i]!;
    if (r.op === 'open' || r.op === 'sync' || r.op === 'crash') continue;
    if (syncedDirAfter(i, r.pino) && (r.op !== 'rename' || syncedDirAfter(i, r.pto))) continue;
    if (persists({ op: r.op, path: r.path! })) continue;
    undo(r);
    undone++;
  }
  return { undone, cut: cutFiles(recs, roots, path.join(dir, 'stash')) };
}

function undo(r: Rec): void {
  const p = r.path!;
  switch (r.op) {
    case 'create':
    case 'link':
      fs.rmSync(p, { force: true });
      break;
    case 'mkdir':
      fs.rmSync(p, { recursive: true, force: true });
      break;
    case 'rmdir':
      if (!exists(p)) fs.mkdirSync(p);
      break;
    case 'rename':
      if (exists(r.to!) && !exists(p)) fs.renameSync(r.to!, p);
      if (r.saved && exists(r.saved)) fs.renameSync(r.saved, r.to!);
      break;
    case 'unlink':
    case 'rmtree':
      if (r.saved && exists(r.saved) && !exists(p)) fs.renameSync(r.saved, p);
      break;
    default:
      throw new Error(`unknown op in fault log: ${r.op}`);
  }
}

/** Cuts each file this run wrote to its durable size: its size at its last fsync, else what it had when opened. */
function cutFiles(recs: Rec[], roots: string[], stash: string): number {
  const durable = new Map<number, number>();
  for (const r of recs) {
    if (r.op === 'open' && !durable.has(r.ino!)) durable.set(r.ino!, r.created ? 0 : r.size!);
    if (r.op === 'sync' && !r.dir) durable.set(r.ino!, r.size!);
  }
  let cut = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (full === stash) continue;
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) {
        const st = fs.lstatSync(full);
        const keep = durable.get(st.ino);
        if (keep !== undefined && st.size > keep) {
          fs.truncateSync(full, keep);
          cut++;
        }
      }
    }
  };
  for (const root of roots) if (exists(root)) walk(root);
  return cut;
}

/**
 * What is wrong with a crash run at the K-th durability point: nothing when it was killed there,
 * or when it finished cleanly having made fewer than K. Pack ids are random, so a new pack can go
 * into a `packs/<2 hex>/` directory an earlier pack already made, and that run then makes one
 * directory fsync fewer than the clean run counted (~5% of the backups of the dedup sweep: 3 of 80
 * clean runs made 19 instead of 20).
 */
export function unkilledRun(r: { signal: NodeJS.Signals | null; code: number | null; stderr: string }, k: number, faultDir: string): string | undefined {
  if (r.signal === 'SIGKILL') return undefined;
  const made = countSyncs(faultDir);
  if (r.code === 0 && r.stderr === '' && made < k) return undefined;
  return `K=${k}: not killed (signal ${r.signal}, code ${r.code}) after ${made} durability points: ${r.stderr}`;
}

/**
 * The durability points a sweep crashes at (or the cases of any sweep), out of 1..points. Every point costs a crash run, a
 * rollback, restores and a rerun (~1-2 s of CPU), so a sweep tries every point `keep` names (the
 * first and last by default: where an operation starts and publishes) and one in `stride` of the
 * rest, from an offset drawn per run and printed: successive runs of the suite cover every point.
 * CV_SWEEP_OFFSET=n repeats a run's choice; CV_SWEEP=all tries every point.
 */
export function sweepPoints(name: string, points: number, stride: number, keep: (k: number) => boolean = (k) => k <= 1 || k > points - 3): number[] {
  const all = process.env.CV_SWEEP === 'all';
  const fixed = process.env.CV_SWEEP_OFFSET;
  const offset = fixed !== undefined ? Number(fixed) % stride : Math.floor(Math.random() * stride);
  const ks = Array.from({ length: points }, (_, i) => i + 1).filter((k) => all || keep(k) || k % stride === offset);
  const how = all ? 'CV_SWEEP=all' : `one in ${stride} from offset ${offset}; CV_SWEEP_OFFSET=${offset} repeats it, CV_SWEEP=all tries all`;
  console.log(`${name}: ${ks.length} of ${points} tried (${how})`);
  return ks;
}
