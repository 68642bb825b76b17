import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseJson } from './json.js';

/** fsync a directory so that a rename or create inside it survives a crash. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** The file's exact mode (umask does not apply); the temp file has it from creation. Default 0644. */
  mode?: number;
  /** false skips both fsyncs: readers still never see a torn file, but a crash may keep the old one. */
  durable?: boolean;
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn mix:
 * temp file (created exclusively, never through a symlink) -> fsync -> rename -> fsync of the
 * directory. In a sticky shared directory the rename fails if the target is another user's.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const { mode = 0o644, durable = true } = opts;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    fs.fchmodSync(fd, mode);
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) fsyncDir(dir);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n');
}

/** Reads JSON into null-prototype objects (common/json.ts): names read from disk are never inherited keys. */
export function readJson<T>(file: string): T {
  return parseJson(fs.readFileSync(file, 'utf8')) as T;
}

/** mkdir -p, then fsync every parent that gained an entry, so the new path survives a crash. */
export function mkdirDurable(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  let d = dir;
  while (d.length >= first.length) {
    fsyncDir(path.dirname(d));
    d = path.dirname(d);
  }
}

/** Blocks the thread without spinning; used for short lock back-offs and rate limiting. */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** fsync a directory without blocking the event loop (runs on libuv's thread pool). */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
