/**
 * Piscina worker: copies or hashes a batch of files. Only synchronous fs calls: worker threads
 * share libuv's 4-thread pool, so async fs in N workers would queue behind each other there.
 * One buffer per worker, reused for every block of every file (no per-file allocation, no GC).
 */
import fs from 'node:fs';
import path from 'node:path';
import { workerData } from 'node:worker_threads';
import { CvError, fromSystemError, guard } from '../common/errors.js';
import { closeFile, closeQuietly, copyFileTo, makeDirs, openFile, removeFile, syncFile, writeAll } from '../common/fsio.js';
import { giveSlots, holdCreate, takeSlots } from './disk-slots.js';
import { ByteCounter, CancelFlag, type WorkerShared } from './shared-state.js';
import { Throttle } from './throttle.js';
import { newXxh3, toHex } from './hash-hex.js';
import { fsTypeOf } from './disk-id.js';
import type { FileJob, FileResult, HashResult, ModuleTask, UsedMethod, WorkerContext, WorkerReply, WorkerTask } from './types.js';

const shared = workerData as WorkerShared;
const cancel = new CancelFlag(shared.cancel);
const progress = new ByteCounter(shared.progress);
const throttle = new Throttle(shared.throttle);
const buf = Buffer.allocUnsafe(shared.blockSize);
/** Every result carries the file's first bytes, so callers can validate headers without reopening files. */
const HEAD_BYTES = 64;

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
// O_NONBLOCK: opening a FIFO planted in a backup must not hang the worker; fstat then rejects it.
const SRC_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;
// O_EXCL never overwrites and, with O_CREAT, never follows a symlink at the destination.
const DST_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/**
 * One task at a time, in the order they came: piscina posts a worker several tasks ahead
 * (copy-pipeline.ts), and a module task may return a promise; two tasks at once would share `buf`.
 * Each holds its disks' slots (disk-slots.ts) while it runs.
 */
let previous: Promise<unknown> = Promise.resolve();

export default function run(task: WorkerTask): Promise<WorkerReply> {
  const mine = previous.then(() => runHolding(task));
  previous = mine.catch(() => undefined);
  return mine;
}

async function runHolding(task: WorkerTask): Promise<WorkerReply> {
  const abort = new CancelFlag(task.abort);
  const stopped = () => cancel.isSet || abort.isSet;
  try {
    await takeSlots(shared.slots, task.slots, stopped);
  } catch (err) {
    return failed(err, 'copy worker');
  }
  try {
    const create = <T>(make: () => T): T => holdCreate(shared.slots, task.creates, make);
    if (task.kind === 'module') return await runModule(task.module, task.payload, stopped, create);
    if (task.kind === 'hash') return { ok: true, results: task.files.map((f) => hashOne(f, stopped)) };
    return { ok: true, results: task.files.map((f) => copyOne(f, task.method, stopped, task.sync !== false, create)) };
  } catch (err) {
    return failed(err, 'copy worker');
  } finally {
    giveSlots(shared.slots, task.slots);
  }
}

function failed(err: unknown, what: string): WorkerReply {
  const e = fromSystemError(err, what);
  return { ok: false, code: e.code, message: e.message };
}

const modules = new Map<string, Promise<ModuleTask>>();
const moduleTask = (url: string): Promise<ModuleTask> => {
  let fn = modules.get(url);
  if (!fn) modules.set(url, (fn = import(url).then((m: { default: ModuleTask }) => m.default)));
  return fn;
};
// Cold, a module task's imports took 0.1-0.2 s of a worker's first task (many shape, loaded machine).
// Awaited here, at the top level: piscina then reports the worker ready only once they are loaded,
// and until a task comes its Atomics wait loop blocks this thread's event loop, which an import
// left running would need. A failed preload is reported by the first task that needs the module.
await Promise.all((shared.preload ?? []).map((url) => moduleTask(url).catch(() => undefined)));

/** A task of a layer above io, by module URL (imported once per worker); its errors come back as data. */
async function runModule(url: string, payload: unknown, stopped: () => boolean, create: WorkerContext['create']): Promise<WorkerReply> {
  try {
    const fn = await moduleTask(url);
    const ctx: WorkerContext = { buf, stopped, acquire: (n) => throttle.acquire(n, stopped) && !stopped(), progress: (n) => progress.add(n), create };
    return { ok: true, value: await fn(payload, ctx) };
  } catch (err) {
    return failed(err, 'worker task');
  }
}

interface Src {
  fd: number;
  st: fs.Stats;
}

function openSrc(p: string, expectedSize?: number): Src {
  let fd: number;
  try {
    fd = fs.openSync(p, SRC_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new CvError('CORRUPT', `refusing to read symbolic link ${p}`);
    throw fromSystemError(err, `cannot open ${p}`);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new CvError('CORRUPT', `not a regular file: ${p}`);
  }
  if (expectedSize !== undefined && st.size !== expectedSize) {
    fs.closeSync(fd);
    throw new CvError('CORRUPT', `size mismatch for ${p}: expected ${expectedSize} bytes, found ${st.size}`);
  }
  return { fd, st };
}

function cancelled(): CvError {
  return new CvError('CANCELLED', 'copy cancelled');
}

/**
 * Reads `size` bytes from fd block by block: throttle, cancel check, hash, optional sink, progress.
 * Fails if the file ends early (it shrank under us).
 */
function pump(fd: number, size: number, label: string, stopped: () => boolean, sink?: (b: Buffer) => void): { xxh3: string; head: Uint8Array } {
  const h = newXxh3();
  let head = new Uint8Array(0);
  let pos = 0;
  while (pos < size) {
    const want = Math.min(buf.length, size - pos);
    if (!throttle.acquire(want, stopped) || stopped()) throw cancelled();
    const n = guard(() => fs.readSync(fd, buf, 0, want, null), `read ${label}`);
    if (n === 0) throw new CvError('CORRUPT', `${label} shrank while being read: ${pos} of ${size} bytes`);
    const block = buf.subarray(0, n);
    // A copy of the first bytes, not a view: a view would clone the whole block buffer to the caller.
    if (pos === 0) head = Uint8Array.from(block.subarray(0, HEAD_BYTES));
    h.update(block);
    sink?.(block);
    pos += n;
    progress.add(n);
  }
  return { xxh3: toHex(h.digest()), head };
}

function unchanged(src: Src, label: string): void {
  const now = fs.fstatSync(src.fd);
  if (now.size !== src.st.size || now.mtimeMs !== src.st.mtimeMs) {
    throw new CvError('CORRUPT', `${label} changed while being copied`);
  }
}

function copyOne(job: FileJob, method: UsedMethod, stopped: () => boolean, sync: boolean, create: WorkerContext['create']): FileResult {
  if (!job.dst) throw new CvError('USAGE', `no destination given for ${job.src}`);
  const dst = job.dst;
  if (stopped()) throw cancelled();
  const src = openSrc(job.src, job.expectedSize);
  let dfd: number | undefined;
  let created = false;
  try {
    let xxh3: string;
    let head: Uint8Array;
    if (method === 'stream') {
      dfd = create(() => withParents(dst, () => openFile(dst, DST_FLAGS, 0o644)));
      created = true;
      const out = dfd;
      ({ xxh3, head } = pump(src.fd, src.st.size, job.src, stopped, (b) => guard(() => writeAll(out, b), `write ${dst}`)));
      unchanged(src, job.src);
      if (sync) guard(() => syncFile(out), `fdatasync ${dst}`);
    } else {
      // Not through `create`: copyFileSync makes the file and copies all of it in one call, and a
      // create slot held for a whole copy would take turns with every copy on the disk.
      cloneOrCopyRange(job.src, dst, method);
      created = true;
      // copyFileSync works on paths: make sure the path still names the file we checked.
      const again = fs.lstatSync(job.src);
      if (again.ino !== src.st.ino || again.dev !== src.st.dev) throw new CvError('CORRUPT', `${job.src} was replaced while being copied`);
      unchanged(src, job.src);
      dfd = openFile(dst, O_RDONLY | O_NOFOLLOW);
      const out = dfd;
      guard(() => syncFile(out), `fdatasync ${dst}`);
      ({ xxh3, head } = pump(out, src.st.size, dst, stopped)); // hash what landed, not what we meant to write
      const dsize = fs.fstatSync(out).size;
      if (dsize !== src.st.size) throw new CvError('CORRUPT', `copy of ${job.src} has ${dsize} bytes, expected ${src.st.size}`);
    }
    if (job.expectedXxh3 !== undefined && job.expectedXxh3 !== xxh3) {
      throw new CvError('CORRUPT', `checksum mismatch for ${job.src}: expected xxh3 ${job.expectedXxh3}, got ${xxh3}`);
    }
    return { src: job.src, dst, size: src.st.size, xxh3, method, head };
  } catch (err) {
    // Remove only what we created: an EEXIST dst belongs to someone else.
    if (dfd !== undefined) closeQuietly(dfd);
    dfd = undefined;
    if (created) removeFile(dst);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CvError('CONFLICT', `destination already exists: ${dst}`);
    throw fromSystemError(err, `copy ${job.src} -> ${dst}`);
  } finally {
    if (dfd !== undefined) closeFile(dfd);
    closeQuietly(src.fd);
  }
}

function cloneOrCopyRange(src: string, dst: string, method: 'copy-file-range' | 'reflink'): void {
  const flags = fs.constants.COPYFILE_EXCL | (method === 'reflink' ? fs.constants.COPYFILE_FICLONE_FORCE : 0);
  try {
    withParents(dst, () => copyFileTo(src, dst, flags));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (method === 'reflink' && ['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY'].includes(code ?? '')) {
      // libuv may have created an empty dst before the clone ioctl failed.
      removeFile(dst);
      throw new CvError(
        'IO',
        `reflink ${src} -> ${dst} not possible (${code}; ${fsTypeOf(src)} -> ${fsTypeOf(dst)}): cloning needs one XFS (reflink=1) or btrfs file system; use method stream`,
      );
    }
    if (code !== 'EEXIST') removeFile(dst);
    throw err;
  }
}

function hashOne(job: FileJob, stopped: () => boolean): HashResult {
  const p = job.src;
  if (stopped()) throw cancelled();
  let fd: number;
  try {
    fd = fs.openSync(p, SRC_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path: p, size: 0, problem: 'missing', detail: 'no such file' };
    if (code === 'ELOOP') return { path: p, size: 0, problem: 'symlink', detail: 'symbolic link, not followed' };
    return { path: p, size: 0, problem: 'unreadable', detail: fromSystemError(err, 'open').message };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { path: p, size: st.size, problem: 'unreadable', detail: 'not a regular file' };
    if (job.expectedSize !== undefined && st.size !== job.expectedSize) {
      return { path: p, size: st.size, problem: 'size', detail: `expected ${job.expectedSize} bytes, found ${st.size}` };
    }
    let xxh3: string;
    let head: Uint8Array;
    try {
      ({ xxh3, head } = pump(fd, st.size, p, stopped));
    } catch (err) {
      if (err instanceof CvError && err.code === 'CANCELLED') throw err;
      return { path: p, size: st.size, problem: 'unreadable', detail: err instanceof Error ? err.message : String(err) };
    }
    if (job.expectedXxh3 !== undefined && job.expectedXxh3 !== xxh3) {
      return { path: p, size: st.size, xxh3, head, problem: 'checksum', detail: `expected xxh3 ${job.expectedXxh3}, got ${xxh3}` };
    }
    return { path: p, size: st.size, xxh3, head };
  } finally {
    closeQuietly(fd);
  }
}

/** Creates missing parent directories (durably) on the first ENOENT, then retries once. */
function withParents<T>(dst: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The parent is missing, or another worker created it after our attempt: make sure, then retry.
    const dir = path.dirname(dst);
    guard(() => makeDirs(dir), `create directory ${dir}`);
    return fn();
  }
}


