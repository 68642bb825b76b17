import fs from 'node:fs';
import path from 'node:path';
import { corrupt, fromSystemError } from '../common/errors.js';
import { makeDir, removeFile, removeTree, syncDir } from '../common/fsio.js';

/**
 * The repository's only way to touch its own files. A backup directory is untrusted input: a
 * symbolic link, FIFO, device or a directory where a file belongs (or the reverse) must never
 * make a command read, write, delete or block outside it.
 *
 * Every path is walked from the repository root one component at a time with lstat, refusing
 * links and non-directories. Files are then opened O_NOFOLLOW|O_NONBLOCK (a FIFO opens at once
 * instead of waiting for a writer) and fstat'ed: the open file must be a regular file with the
 * same device and inode as the lstat saw.
 *
 * The limit (documented in docs/CLI.md): Node has no openat(), so between the walk and the use of
 * a path, a process that can write inside the repository could swap a checked directory for a
 * link. O_NOFOLLOW guards the last component of every open; the dev/ino match catches a swapped
 * file; directory components in between are only as safe as the time between check and use.
 */

export type EntryKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'device' | 'other';

export function kindOf(st: fs.Stats | fs.Dirent): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'device';
  return 'other';
}

const article = (k: EntryKind) => (k === 'other' ? 'an unknown kind of entry' : k === 'symlink' ? 'a symbolic link' : `a ${k}`);

/** The CORRUPT error for an entry of the wrong kind; names the path and what was found. */
export function wrongKind(p: string, found: EntryKind, want: 'file' | 'directory'): Error {
  if (found === 'symlink') return corrupt(`refusing to follow a symbolic link in the backup: ${p}`);
  return corrupt(`expected a ${want === 'file' ? 'regular file' : 'directory'} in the backup, found ${article(found)}: ${p}`);
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false });
  } catch (err) {
    // ENOTDIR cannot happen after a checked walk unless the tree changed under us: still hostile.
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw corrupt(`a path in the backup changed while it was read: ${p}`);
    throw fromSystemError(err, `cannot read ${p}`);
  }
}

/**
 * Walks `rel` under `root`, each component an lstat'ed real directory. Returns the full path, or
 * undefined when a component is missing (the caller decides whether that is NOT_FOUND).
 */
export function walkDirs(root: string, rel: string[]): string | undefined {
  let p = root;
  for (const part of rel) {
    p = path.join(p, part);
    const st = lstat(p);
    if (!st) return undefined;
    if (!st.isDirectory()) throw wrongKind(p, kindOf(st), 'directory');
  }
  return p;
}

/**
 * Looks paths up ahead, `concurrency` at a time in libuv's pool, so that walkDirs (synchronous, on
 * the main thread) then finds their inodes cached. Cold, those lstats were 28% of the main thread
 * of a many-shape restore (4,000 entries, five lookups each, one disk read at a time). A hint
 * only: what it finds is not used, and its errors are ignored.
 */
export async function warmPaths(root: string, rels: string[][], concurrency = 32): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < rels.length) await fs.promises.lstat(path.join(root, ...rels[next++]!)).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, rels.length) }, lane));
}

/** The kind of the entry at rel (parents walked as directories), or undefined when it is missing. */
export function entryKind(root: string, rel: string[]): EntryKind | undefined {
  const parent = walkDirs(root, rel.slice(0, -1));
  if (parent === undefined) return undefined;
  const st = lstat(path.join(parent, rel[rel.length - 1]!));
  return st ? kindOf(st) : undefined;
}

/** Names in a checked directory (empty when it is missing), with their kinds as lstat sees them. */
export function listDir(root: string, rel: string[]): { name: string; kind: EntryKind }[] {
  const dir = walkDirs(root, rel);
  if (dir === undefined) return [];
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, kind: kindOf(e) }));
  } catch (err) {
    throw fromSystemError(err, `cannot list ${dir}`);
  }
}

/**
 * listDir a batch of `batch` entries at a time (opendir), for a directory that may hold 100,000s:
 * no array of them is built. Holding one (data/ of a v1 repository at 100,000 partitions) also
 * taught V8 to allocate every later listing's entries straight into the old generation, where
 * they lay as garbage until a full collection: 345 MiB of peak RSS in check (issue 14).
 */
export function* eachEntry(root: string, rel: string[], batch = 256): Generator<{ name: string; kind: EntryKind }> {
  const dir = walkDirs(root, rel);
  if (dir === undefined) return;
  let d: fs.Dir;
  try {
    d = fs.opendirSync(dir, { bufferSize: batch });
  } catch (err) {
    throw fromSystemError(err, `cannot list ${dir}`);
  }
  try {
    for (let e = readEntry(d, dir); e !== null; e = readEntry(d, dir)) yield { name: e.name, kind: kindOf(e) };
  } finally {
    d.closeSync();
  }
}

function readEntry(d: fs.Dir, dir: string): fs.Dirent | null {
  try {
    return d.readSync();
  } catch (err) {
    throw fromSystemError(err, `cannot list ${dir}`);
  }
}

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Opens the regular file at rel under root for reading, or returns undefined when it is missing.
 * The walk refuses links; the open is O_NOFOLLOW|O_NONBLOCK (a FIFO cannot block) and must find
 * the inode the lstat saw. A link, FIFO, device or directory there is CORRUPT. The caller closes fd.
 */
export function openRegularFile(root: string, rel: string[]): { fd: number; file: string; size: number } | undefined {
  const parent = walkDirs(root, rel.slice(0, -1));
  if (parent === undefined) return undefined;
  const file = path.join(parent, rel[rel.length - 1]!);
  const before = lstat(file);
  if (!before) return undefined;
  if (!before.isFile()) throw wrongKind(file, kindOf(before), 'file');
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // removed since the lstat: as if never there
    if (code === 'ELOOP') throw wrongKind(file, 'symlink', 'file');
    throw fromSystemError(err, `cannot read ${file}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw wrongKind(file, kindOf(st), 'file');
    if (st.dev !== before.dev || st.ino !== before.ino) throw corrupt(`a file in the backup was replaced while it was opened: ${file}`);
    return { fd, file, size: st.size };
  } catch (err) {
    fs.closeSync(fd);
    throw fromSystemError(err, `cannot read ${file}`);
  }
}

/** Reads a regular file at rel under root (see openRegularFile), or undefined when it is missing. */
export function readRegularFile(root: string, rel: string[]): Buffer | undefined {
  const f = openRegularFile(root, rel);
  if (!f) return undefined;
  try {
    return fs.readFileSync(f.fd);
  } catch (err) {
    throw fromSystemError(err, `cannot read ${f.file}`);
  } finally {
    fs.closeSync(f.fd);
  }
}

/**
 * Makes every missing directory of rel under root (one level at a time, so nothing is created
 * through a link) and, when `flush`, fsyncs each parent that gained an entry. Returns the path.
 */
export function ensureDirs(root: string, rel: string[], flush = true): string {
  let p = root;
  for (const part of rel) {
    const parent = p;
    p = path.join(p, part);
    const st = lstat(p);
    if (st && !st.isDirectory()) throw wrongKind(p, kindOf(st), 'directory');
    if (st) continue;
    try {
      if (makeDir(p) && flush) syncDir(parent);
    } catch (err) {
      throw fromSystemError(err, `cannot create ${p}`);
    }
    // A racing planter could put a link there between mkdir's EEXIST and now: look again.
    const again = lstat(p);
    if (!again?.isDirectory()) throw wrongKind(p, again ? kindOf(again) : 'other', 'directory');
  }
  return p;
}

/**
 * Removes the entry at rel (parents walked as directories). A directory goes recursively; rm
 * never follows links inside it. A link, FIFO or file is unlinked, never opened or followed.
 */
export function removeEntry(root: string, rel: string[]): void {
  const parent = walkDirs(root, rel.slice(0, -1));
  if (parent === undefined) return;
  const p = path.join(parent, rel[rel.length - 1]!);
  const st = lstat(p);
  if (!st) return;
  if (st.isDirectory()) removeTree(p);
  else removeFile(p);
}
