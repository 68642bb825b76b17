import fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * The write side of the file system: every call that creates, writes, makes durable, renames or
 * removes goes through here. Two reasons:
 * - writes loop until done (a short write is never taken for a complete one);
 * - a test-only layer (test/support/fault-layer.mjs, loaded with `node --import`) installs hooks
 *   here to fail the N-th write, shorten writes, raise ENOSPC at byte N, or simulate a crash at a
 *   durability point. Production never installs hooks; the cost is one undefined check per call.
 */
export interface IoHooks {
  /** A file was opened for writing (or a directory for fsync). */
  opened?(fd: number, file: string): void;
  /** Before a write: may throw (EIO, ENOSPC) or return fewer bytes than asked to force a short write. */
  write?(fd: number, length: number): number;
  /** After a write landed `n` bytes. */
  wrote?(fd: number, n: number): void;
  /** Before an fsync/fdatasync of a file or a directory: a durability point, where a crash may be simulated. */
  sync?(fd: number): void;
  /** Before a name changes: create, mkdir, rename, unlink, rmtree. May save what is replaced. */
  entry?(op: 'create' | 'mkdir' | 'rename' | 'unlink' | 'rmtree', path: string, to?: string): void;
  closed?(fd: number): void;
}

let hooks: IoHooks | undefined;

/** Test-only: installs the fault layer's hooks (see test/support/fault-layer.mjs). */
export function installIoHooks(h: IoHooks | undefined): void {
  hooks = h;
}

const { O_CREAT } = fs.constants;

export function openFile(file: string, flags: number, mode = 0o644): number {
  if (hooks?.entry && flags & O_CREAT && !fs.existsSync(file)) hooks.entry('create', file);
  const fd = fs.openSync(file, flags, mode);
  hooks?.opened?.(fd, file);
  return fd;
}

export function closeFile(fd: number): void {
  hooks?.closed?.(fd);
  fs.closeSync(fd);
}

/** Writes every byte or throws; a write that makes no progress is an I/O error, not a loop. */
export function writeAll(fd: number, data: Uint8Array, position: number | null = null): void {
  let off = 0;
  while (off < data.byteLength) {
    let len = data.byteLength - off;
    if (hooks?.write) len = hooks.write(fd, len);
    const n = fs.writeSync(fd, data, off, len, position === null ? null : position + off);
    if (n <= 0) throw Object.assign(new Error(`write made no progress (fd ${fd})`), { code: 'EIO' });
    hooks?.wrote?.(fd, n);
    off += n;
  }
}

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
    if (n <= 0) throw Object.assign(new Error(`write made no progress (fd ${fd})`), { code: 'EIO' });
    hooks?.wrote?.(fd, n);
    off += n;
  }
}

/** fdatasync (data: true, the default) or fsync of an open file. */
export function syncFile(fd: number, dataOnly = true): void {
  hooks?.sync?.(fd);
  if (dataOnly) fs.fdatasyncSync(fd);
  else fs.fsyncSync(fd);
}

export async function syncFileAsync(fd: number): Promise<void> {
  hooks?.sync?.(fd);
  await fdatasyncAsync(fd);
}

/** fsync a directory so that a create, rename or unlink inside it survives a crash. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  hooks?.opened?.(fd, dir);
  try {
    hooks?.sync?.(fd);
    fs.fsyncSync(fd);
  } finally {
    closeFile(fd);
  }
}

export async function syncDirAsync(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  hooks?.opened?.(fh.fd, dir);
  try {
    hooks?.sync?.(fh.fd);
    await fh.sync();
  } finally {
    hooks?.closed?.(fh.fd);
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

/** mkdir of one level; returns false if it already existed. */
export function makeDir(dir: string, mode = 0o755): boolean {
  hooks?.entry?.('mkdir', dir);
  try {
    fs.mkdirSync(dir, { mode });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export function removeFile(file: string): void {
  hooks?.entry?.('unlink', file);
  fs.rmSync(file, { force: true });
}

/** rm -rf of a tree that the caller has checked is a real directory (rm never follows links inside it). */
export function removeTree(dir: string): void {
  hooks?.entry?.('rmtree', dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

export async function removeTreeAsync(dir: string): Promise<void> {
  hooks?.entry?.('rmtree', dir);
  await fs.promises.rm(dir, { recursive: true, force: true });
}
