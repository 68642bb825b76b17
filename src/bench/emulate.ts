import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { formatBytes } from '../common/units.js';
import { BLKIO, EmulationState, cleanLeftovers } from './emulate-cleanup.js';
import { describeSpec, type EmulateSpec } from './emulate-spec.js';

export { parseEmulateSpec, describeSpec, type EmulateSpec } from './emulate-spec.js';

/**
 * Emulated disks (issue 16): one loop device per disk over a file on a private tmpfs (or a sparse
 * file on the disk when the data would not fit in memory), formatted ext4 or XFS, mounted, and
 * throttled in the cgroup v1 blkio controller at the root, which holds for O_DIRECT and buffered
 * I/O alike (writeback runs in the root group). Everything made is recorded first in a state file
 * (emulate-cleanup.ts), undone at exit, on SIGINT/SIGTERM/SIGHUP and after a crash, and undone by
 * the next run after a kill -9.
 */
export interface EmulatedDisk {
  role: 'volume' | 'backup';
  /** /dev/loopN */
  device: string;
  /** major:minor, as blkio and st_dev see it. */
  dev: string;
  mount: string;
  image: string;
  sizeBytes: number;
  bytesPerSec: number;
  iops: number;
}

export interface EmulatedDisks {
  spec: EmulateSpec;
  backing: 'tmpfs' | 'sparse';
  disks: EmulatedDisk[];
  /** Leftovers of killed runs this run cleaned up first. */
  cleanedLeftovers: string[];
  /** How the disks were made, in one paragraph for the report. */
  description: string;
  /** Returns freed blocks to the backing store (fstrim); call between timed steps, never during one. */
  trim(): void;
  cleanup(): void;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : os.freemem();
}

/** File system sizes: each volume disk holds its share of the data and of a restore, the backup disk the backups. */
export function diskSizes(spec: EmulateSpec, dataBytes: number, testBytes: number): { volume: number; backup: number } {
  const slack = Math.max(testBytes, 256 << 20) + (512 << 20);
  const mib = (n: number) => Math.ceil(n / (1 << 20)) * (1 << 20);
  return { volume: mib((2.5 * dataBytes) / spec.volumes.count + slack), backup: mib(2.5 * dataBytes + slack) };
}

/**
 * An operation's page cache: a cold backup or restore caches what it reads and what it writes
 * (the harness drops it between commands), on top of the tmpfs pages of the disks themselves.
 */
const PAGE_CACHE_COPIES = 2;

/**
 * Memory when the live bytes at the peak fit in 60% of what is available: `copies` × the data on
 * the tmpfs, one operation's page cache (PAGE_CACHE_COPIES × the data) and one device test file.
 * Counting the page cache matters on this VM: 1 GiB dd writes to a fresh tmpfs ran at 2.3-3.1 GB/s
 * until about 15 GB of its 23 GiB were in use (MemFree ~8 GB), then at 330-490 MB/s, below an
 * emulated 500 MB/s disk (2 runs, 2026-11-28). Without the page cache term, `plan --validate 4GB`
 * put 10 GB on tmpfs, its backup's page cache crossed that line half-way, and the backup disk fell
 * from ~490 to 200-300 MB/s (backup 11.6-13.2 s against 9.35 s over sparse files).
 */
export function pickBacking(spec: Pick<EmulateSpec, 'backing'>, dataBytes: number, testBytes: number, copies: number, available = memAvailable()): 'tmpfs' | 'sparse' {
  if (spec.backing !== 'auto') return spec.backing;
  return (copies + PAGE_CACHE_COPIES) * dataBytes + testBytes < 0.6 * available ? 'tmpfs' : 'sparse';
}

function makeFs(kind: 'ext4' | 'xfs', device: string): void {
  if (kind === 'xfs') run('mkfs.xfs', ['-q', '-f', '-K', device]);
  else run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0,nodiscard', device]);
}

function throttle(dev: string, bytesPerSec: number, iops: number): void {
  for (const dir of ['read', 'write']) {
    fs.writeFileSync(path.join(BLKIO, `blkio.throttle.${dir}_bps_device`), `${dev} ${Math.round(bytesPerSec)}`);
    if (iops) fs.writeFileSync(path.join(BLKIO, `blkio.throttle.${dir}_iops_device`), `${dev} ${iops}`);
  }
}

/** One disk: image (recorded), loop device, file system, mount (recorded), throttle (recorded). */
function makeDisk(state: EmulationState, spec: EmulateSpec, dir: string, name: string, role: EmulatedDisk['role'], sizeBytes: number): EmulatedDisk {
  const image = path.join(dir, 'images', `${name}.img`);
  state.record({ kind: 'image', path: image });
  fs.writeFileSync(image, '');
  fs.truncateSync(image, sizeBytes); // sparse: blocks are taken only when written
  const device = run('losetup', ['--find', '--show', '--direct-io=on', image]);
  const dev = fs.readFileSync(`/sys/block/${path.basename(device)}/dev`, 'utf8').trim();
  makeFs(spec.fs, device);
  const mount = path.join(dir, 'mnt', name);
  fs.mkdirSync(mount, { recursive: true });
  state.record({ kind: 'mount', dir: mount });
  run('mount', [device, mount]);
  const bytesPerSec = role === 'backup' ? spec.backup.bytesPerSec : spec.volumes.bytesPerSec;
  state.record({ kind: 'throttle', dev, image });
  throttle(dev, bytesPerSec, spec.iops);
  return { role, device, dev, mount, image, sizeBytes, bytesPerSec, iops: spec.iops };
}

function preflight(spec: EmulateSpec): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) throw new Error('--emulate needs root (loop devices, mounts and blkio throttles)');
  if (!fs.existsSync(path.join(BLKIO, 'blkio.throttle.write_bps_device')))
    throw new Error(`--emulate needs the cgroup v1 blkio controller at ${BLKIO}; on cgroup v2 the same is io.max on a child group, which this build does not do`);
  const mkfs = spec.fs === 'xfs' ? 'mkfs.xfs' : 'mkfs.ext4';
  try {
    run('sh', ['-c', `command -v ${mkfs}`]);
  } catch {
    throw new Error(`--emulate fs=${spec.fs} needs ${mkfs} (Debian: apt-get install ${spec.fs === 'xfs' ? 'xfsprogs' : 'e2fsprogs'})`);
  }
}

function describe(e: Omit<EmulatedDisks, 'description' | 'trim' | 'cleanup'>, baseDir: string): string {
  const devs = e.disks.map((d) => `${d.device} (${d.role}, ${d.dev}, ${formatBytes(d.sizeBytes)})`).join(', ');
  const where = e.backing === 'tmpfs' ? `files on a private tmpfs under ${baseDir}` : `sparse files under ${baseDir} (on the real disk, whose own speed then limits them)`;
  return (
    `EMULATED DISKS: ${describeSpec(e.spec)}. Each is a loop device (direct I/O) over ${where}: ${devs}; ` +
    `each throttled in the cgroup v1 blkio controller at the root (blkio.throttle.read_bps_device and write_bps_device${e.spec.iops ? ', and *_iops_device' : ''}), ` +
    `with the kernel's default read-ahead. Latency is not emulated. The CPU work of the loop devices and of tmpfs is done by this machine's cores, which the real disks would not need.`
  );
}

/**
 * Makes the emulated disks under `baseDir`. Cleans up leftovers of killed runs first. The returned
 * cleanup is also run at exit and on SIGINT/SIGTERM/SIGHUP (the process then exits 130/143/129).
 * `copies`: how many copies of the data live at once (bench: data, backup and restore, 3.2 with
 * slack; plan: 2.2, it removes the source after the backup). `workDir`: the run's working
 * directory, removed with the disks (so Ctrl-C or a kill -9 leaves no generated data behind either).
 */
export function makeEmulatedDisks(spec: EmulateSpec, baseDir: string, dataBytes: number, testBytes: number, log: (s: string) => void, copies = 3.2, workDir?: string): EmulatedDisks {
  preflight(spec);
  const cleanedLeftovers = cleanLeftovers();
  for (const l of cleanedLeftovers) log(l);
  const dir = path.resolve(baseDir);
  const state = new EmulationState();
  const backing = pickBacking(spec, dataBytes, testBytes, copies);
  const sizes = diskSizes(spec, dataBytes, testBytes);
  const cleanup = () => {
    removeHandlers();
    const errors = state.undo();
    if (errors.length) log(`emulated disks: cleanup left ${errors.length} problem(s), kept in ${state.file} for the next run: ${errors.join('; ')}`);
  };
  const signals: [NodeJS.Signals, number][] = [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]];
  const handlers = signals.map(([sig, code]) => [sig, () => (cleanup(), process.exit(code))] as const);
  const removeHandlers = () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    process.removeListener('exit', cleanup);
  };
  for (const [sig, h] of handlers) process.once(sig, h);
  process.once('exit', cleanup);
  try {
    if (workDir) state.record({ kind: 'dir', path: path.resolve(workDir) });
    state.record({ kind: 'dir', path: dir });
    fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
    if (backing === 'tmpfs') {
      const total = sizes.volume * spec.volumes.count + sizes.backup;
      state.record({ kind: 'tmpfs', mount: path.join(dir, 'images') });
      run('mount', ['-t', 'tmpfs', '-o', `size=${total},mode=0700`, 'cv-emulate', path.join(dir, 'images')]);
    }
    const disks = Array.from({ length: spec.volumes.count }, (_, i) => makeDisk(state, spec, dir, `vol${i}`, 'volume', sizes.volume));
    disks.push(makeDisk(state, spec, dir, 'backup', 'backup', sizes.backup));
    const e = { spec, backing, disks, cleanedLeftovers };
    const description = describe(e, dir);
    log(description);
    const trim = () => {
      for (const d of disks) {
        try {
          run('fstrim', [d.mount]);
        } catch {
          /* nothing to trim, or the file system cannot */
        }
      }
    };
    return { ...e, description, trim, cleanup };
  } catch (err) {
    cleanup();
    throw new Error(`could not make the emulated disks: ${(err as Error).message.split('\n')[0]}`);
  }
}
