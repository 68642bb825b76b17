import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The write side of the file system: every call that creates, writes, makes durable, renames or
 * removes goes through here. Two reasons:
 * - writes loop until done (a short write is never taken for a complete one);
 * - a test-only layer (test/support/fault-layer.mjs, loaded with `node --import`) installs hooks
 *   here to fail the N-th write, shorten writes, raise ENOSPC at byte N, or simulate a crash at a
 *   durability point. Production never installs hooks; the cost is one undefined check per call.
 */
export type EntryOp = 'create' | 'mkdir' | 'link' | 'rename' | 'unlink' | 'rmtree' | 'rmdir';

export interface IoHooks {
  /** A file was opened for writing; `created` when this open made it. */
  opened?(fd: number, file: string, created: boolean): void;
  /** Before a write: may throw (EIO, ENOSPC) or return fewer bytes than asked to force a short write. */
  write?(fd: number, length: number): number;
  /** After a write landed `n` bytes. */
  wrote?(fd: number, n: number): void;
  /** Before and after an fsync/fdatasync of a file or a directory: a durability point, where a crash may be simulated. */
  sync?(fd: number, isDir: boolean): void;
  synced?(fd: number, isDir: boolean): void;
  /**
   * Before a name changes (only when it will: an existing directory is not made again, an absent
   * file is not unlinked). create, mkdir, link, rmdir, rename, unlink and rmtree. May save what is replaced or removed so a simulated crash can undo it.
   */
  entry?(op: EntryOp, path: string, to?: string): void;
  closed?(fd: number): void;
}

/**
 * Where test/support/fault-layer.mjs (loaded with `node --import`, which also runs in worker
 * threads) leaves its hooks before chunkvault loads. A global, not an import of this module:
 * the CLI runs from the bundle (src/common/entry-points.ts), where this module is part of a chunk.
 */
const PRELOADED_HOOKS = Symbol.for('chunkvault.ioHooks');

let hooks = (globalThis as { [PRELOADED_HOOKS]?: IoHooks })[PRELOADED_HOOKS];

/** The one entry point for fault injection in-process, used only by tests. Production code never calls it. */
export function installIoHooks(h: IoHooks | undefined): void {
  hooks = h;
}

/** True under the test fault layer: group syncs then take the per-file path, which it can see. */
export function hooksInstalled(): boolean {
  return hooks !== undefined;
}

const { O_CREAT } = fs.constants;

export function openFile(file: string, flags: number, mode = 0o644): number {
  const created = !!hooks && !!(flags & O_CREAT) && !fs.existsSync(file);
  if (created) hooks?.entry?.('create', file);
  const fd = fs.openSync(file, flags, mode);
  hooks?.opened?.(fd, file, created);
  return fd;
}

/** Closes a file while already failing: the original error is the one that matters. */
export function closeQuietly(fd: number): void {
  try {
    closeFile(fd);
  } catch {
    /* already failing */
  }
}

export function closeFile(fd: number): void {
  hooks?.closed?.(fd);
  fs.closeSync(fd);
}

const noProgress = (fd: number) => Object.assign(new Error(`write made no progress (fd ${fd})`), { code: 'EIO' });

/** Writes every byte or throws; a write that makes no progress is an I/O error, not a loop. */
export function writeAll(fd: number, data: Uint8Array, position: number | null = null): void {
  let off = 0;
  while (off < data.byteLength) {
    let len = data.byteLength - off;
    if (hooks?.write) len = hooks.write(fd, len);
    const n = fs.writeSync(fd, data, off, len, position === null ? null : position + off);
    if (n <= 0) throw noProgress(fd);
    hooks?.wrote?.(fd, n);
    off += n;
  }
}

/** Several buffers in order, each written completely (a short writev would need the same loop). */
export function writeAllv(fd: number, parts: Uint8Array[]): void {
  for (const p of parts) writeAll(fd, p);
}

const writeAsync = (fd: number, b: Uint8Array, off: number, len: number) =>
  new Promise<number>((resolve, reject) => fs.write(fd, b, off, len, null, (err, n) => (err ? reject(err) : resolve(n))));
const fdatasyncAsync = promisify(fs.fdatasync);

/** Async writeAll for the event loop (journal appends). */
export async function writeAllAsync(fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) {
    let len = data.byteLength - off;
    if (hooks?.write) len = hooks.write(fd, len);
    const n = await writeAsync(fd, data, off, len);
    if (n <= 0) throw noProgress(fd);
    hooks?.wrote?.(fd, n);
    off += n;
  }
}

/** fdatasync (data: true, the default) or fsync of an open file. */
export function syncFile(fd: number, dataOnly = true): void {
  hooks?.sync?.(fd, false);
  if (dataOnly) fs.fdatasyncSync(fd);
  else fs.fsyncSync(fd);
  hooks?.synced?.(fd, false);
}

export async function syncFileAsync(fd: number): Promise<void> {
  hooks?.sync?.(fd, false);
  await fdatasyncAsync(fd);
  hooks?.synced?.(fd, false);
}

/** fsync a directory so that a create, rename or unlink inside it survives a crash. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    hooks?.sync?.(fd, true);
    fs.fsyncSync(fd);
    hooks?.synced?.(fd, true);
  } finally {
    fs.closeSync(fd);
  }
}

export async function syncDirAsync(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    hooks?.sync?.(fh.fd, true);
    await fh.sync();
    hooks?.synced?.(fh.fd, true);
  } finally {
    await fh.close();
  }
}

export function renamePath(from: string, to: string): void {
  hooks?.entry?.('rename', from, to);
  fs.renameSync(from, to);
}

export async function renamePathAsync(from: string, to: string): Promise<void> {
  hooks?.entry?.('rename', from, to);
  await fs.promises.rename(from, to);
}

/** fs.copyFileSync (copy_file_range or a clone, by flags) into a new file; the caller fdatasyncs it. */
export function copyFileTo(src: string, dst: string, flags: number): void {
  if (hooks?.entry && !fs.existsSync(dst)) hooks.entry('create', dst);
  fs.copyFileSync(src, dst, flags);
}

/** A hard link (fails if `to` exists): how a lock file appears whole under its name. */
export function linkPath(existing: string, to: string): void {
  hooks?.entry?.('link', to);
  fs.linkSync(existing, to);
}

/** mkdir of one level; returns false if it already existed. */
export function makeDir(dir: string, mode = 0o755): boolean {
  if (hooks?.entry && !fs.existsSync(dir)) hooks.entry('mkdir', dir);
  try {
    fs.mkdirSync(dir, { mode });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * mkdir -p, then fsync the parent of every level this call found missing, so the new path
 * survives a crash. A level another thread created meanwhile is synced too: its creator may not
 * have flushed it yet when our caller goes on to rely on it.
 */
export function makeDirs(dir: string): void {
  for (const p of makeDirsDeferred(dir)) syncDir(p);
}

/** mkdir -p without the fsyncs: returns the parents whose fsync makes the new levels durable. */
export function makeDirsDeferred(dir: string): string[] {
  const missing: string[] = [];
  // mkdir first, a level up only on ENOENT: a new partition's directory (its parent there) is one
  // mkdir, not a stat of every level (placing a many-shape restore's 4,000 chunks made 12,000 stats).
  // A level an ENOENT showed missing counts as missing even if another thread makes it first (makeDirs).
  const make = (d: string, known: boolean): void => {
    try {
      if (makeDir(d) || known) missing.push(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(d) === d) throw err;
      make(path.dirname(d), true);
      makeDir(d);
      missing.push(d);
    }
  };
  make(path.resolve(dir), false);
  return missing.map((d) => path.dirname(d));
}

export function removeFile(file: string): void {
  if (hooks?.entry && fs.lstatSync(file, { throwIfNoEntry: false })) hooks.entry('unlink', file);
  fs.rmSync(file, { force: true });
}

/** rm -rf of a tree that the caller has checked is a real directory (rm never follows links inside it). */
export function removeTree(dir: string): void {
  if (hooks?.entry && fs.lstatSync(dir, { throwIfNoEntry: false })) hooks.entry('rmtree', dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

export async function removeTreeAsync(dir: string): Promise<void> {
  if (hooks?.entry && fs.lstatSync(dir, { throwIfNoEntry: false })) hooks.entry('rmtree', dir);
  await fs.promises.rm(dir, { recursive: true, force: true });
}

/** rmdir of an empty directory (a chunk directory whose last version went). */
export function removeEmptyDir(dir: string): void {
  hooks?.entry?.('rmdir', dir);
  fs.rmdirSync(dir);
}
