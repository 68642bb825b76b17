import fs from 'node:fs';
import os from 'node:os';
import { uniqueHex } from './unique-name.js';
import { CvError } from './errors.js';
import { sleepSync } from './durable.js';
import { closeFile, linkPath, openFile, removeFile, renamePath, writeAll } from './fsio.js';

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** What holds the lock, e.g. a job id, so a refused caller can name it. */
  holder: string;
}

/** True while the process exists and is not a zombie (a killed child nobody reaped answers kill(0) but is dead). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: kill(pid, 0) is all we know
  }
}

/**
 * The owner a lock file names, or undefined if unreadable. Opened O_NONBLOCK|O_NOFOLLOW and
 * fstat'ed, so a FIFO or link planted as the lock cannot block or redirect the read.
 */
export function readLockOwner(file: string): LockOwner | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) return undefined;
    return JSON.parse(fs.readFileSync(fd, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function isStale(owner: LockOwner | undefined): boolean {
  // Locks appear whole (see acquire), so an unreadable one was torn by a machine crash.
  if (!owner) return true;
  return owner.host === os.hostname() && !pidAlive(owner.pid);
}

export interface LockOptions {
  holder: string;
  /** How long to wait for a live holder before giving up; 0 fails fast. */
  waitMs?: number;
  /** Words for the error, e.g. "backup of dfs://testdb in /bak". */
  what: string;
}

/**
 * The locks this process holds across an await (withLockAsync). This process's synchronous code
 * waiting for one would sleep with the event loop blocked, so the holder could never finish: such
 * a caller is refused at once instead.
 */
const heldAcrossAwait = new Set<string>();

/**
 * An exclusive lock file. The owner record is written to a private file first and hard-linked to
 * the lock's name (link fails if the name exists), so a lock is never seen half-written. A lock
 * whose owner process is dead is taken over: it is renamed aside, and if what was moved turns out
 * to be a live owner (a faster contender replaced the stale lock first), it is linked back.
 */
export class LockFile {
  private constructor(readonly file: string) {}

  static acquire(file: string, opts: LockOptions): LockFile {
    if (heldAcrossAwait.has(file)) throw new CvError('LOCKED', `${opts.what} is locked by another operation of this process (pid ${process.pid})`);
    return LockFile.take(file, opts);
  }

  private static take(file: string, opts: LockOptions): LockFile {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), holder: opts.holder };
    const mine = `${file}.new-${process.pid}-${uniqueHex()}`;
    // No fsync: a lock only matters while its owner lives, and a machine crash ends every owner.
    writePrivate(mine, JSON.stringify(me));
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          linkPath(mine, file);
          return new LockFile(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const owner = readLockOwner(file);
        if (isStale(owner)) {
          const aside = `${file}.stale-${process.pid}-${attempt}`;
          try {
            renamePath(file, aside);
          } catch {
            continue; // another contender moved it first; retry
          }
          const moved = readLockOwner(aside);
          if (moved && !isStale(moved)) {
            try {
              linkPath(aside, file); // put the live lock back; fails only if a third process locked meanwhile
            } catch {
              /* nothing to restore into */
            }
          }
          removeFile(aside);
          continue;
        }
        if (Date.now() >= deadline) {
          throw new CvError('LOCKED', `${opts.what} is locked by ${owner!.holder} (pid ${owner!.pid} on ${owner!.host} since ${owner!.since})`);
        }
        sleepSync(Math.min(50, 5 * (attempt + 1)));
      }
    } finally {
      removeFile(mine);
    }
  }

  release(): void {
    const owner = readLockOwner(this.file);
    if (owner && owner.pid === process.pid) removeFile(this.file);
  }
}

/** The owner record, complete before it is linked to the lock's name (a full disk fails here, not later). */
function writePrivate(file: string, text: string): void {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = openFile(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  try {
    writeAll(fd, Buffer.from(text));
  } catch (err) {
    closeFile(fd);
    removeFile(file);
    throw err;
  }
  closeFile(fd);
}

export function withLock<T>(file: string, opts: LockOptions, fn: () => T): T {
  const lock = LockFile.acquire(file, opts);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/** withLock for work that awaits while it holds the lock (see heldAcrossAwait). */
export async function withLockAsync<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = LockFile.acquire(file, opts);
  heldAcrossAwait.add(file);
  try {
    return await fn();
  } finally {
    heldAcrossAwait.delete(file);
    lock.release();
  }
}
