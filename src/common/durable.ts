import fs from 'node:fs';
import path from 'node:path';
import { uniqueHex } from './unique-name.js';
import { parseJson } from './json.js';
import { closeFile, closeQuietly, openFile, removeFile, renamePath, syncDir, syncFile, writeAll } from './fsio.js';
import { groupSync } from './group-sync.js';

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
export function writeFileAtomic(file: string, data: string | Uint8Array | Iterable<string>, opts: AtomicWriteOptions = {}): void {
  const { mode = 0o644, durable = true } = opts;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${uniqueHex()}`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = openFile(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  let open = true;
  try {
    fs.fchmodSync(fd, mode);
    // Every byte or a throw: a short write (full disk) must never be renamed into place as the file.
    if (typeof data === 'string' || data instanceof Uint8Array) writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
    // Runs of text (a large manifest): written as they come, never joined into one string.
    else for (const run of data) writeAll(fd, Buffer.from(run));
    if (durable) syncFile(fd, false);
    open = false;
    closeFile(fd);
    renamePath(tmp, file);
  } catch (err) {
    if (open) closeQuietly(fd);
    removeFile(tmp);
    throw err;
  }
  if (durable) syncDir(dir);
}

/**
 * Many files replaced atomically, made durable as a group, in three steps: every temp file is
 * written (writeGroupTemps), the temps are made durable together (one group sync, by the caller),
 * then each is renamed over its name and the renames are made durable together
 * (renameGroupTemps). Two syncfs calls instead of two fsyncs per file; and a rename over an
 * existing file whose temp still has delayed allocations makes ext4 (auto_da_alloc) start a flush
 * per rename (4.7 s for 2,000 chunk files in a profile of restore), which the first sync avoids.
 * Readers see each file old or new; a crash may keep any mix of old and new files.
 * The temps, written but neither synced nor visible under their names:
 */
export interface GroupTemps {
  files: string[];
  temps: string[];
  dirs: string[];
}

/**
 * Writes the temps of a group replace. The caller makes them durable (groupSync(g.dirs, g.temps),
 * which may share one syncfs with other work: a restore's group commit), then renameGroupTemps;
 * or removeGroupTemps on failure.
 */
export function writeGroupTemps(files: { file: string; data: string | Uint8Array }[]): GroupTemps {
  const g: GroupTemps = { files: files.map((f) => f.file), temps: [], dirs: [...new Set(files.map((f) => path.dirname(f.file)))] };
  try {
    for (const f of files) {
      const tmp = path.join(path.dirname(f.file), `.${path.basename(f.file)}.tmp-${process.pid}-${uniqueHex()}`);
      const fd = openFile(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
      g.temps.push(tmp);
      try {
        writeAll(fd, typeof f.data === 'string' ? Buffer.from(f.data) : f.data);
      } finally {
        closeFile(fd);
      }
    }
  } catch (err) {
    removeGroupTemps(g);
    throw err;
  }
  return g;
}

/** The second half, once the temps are durable: each renamed over its name, the renames made durable together. */
export function renameGroupTemps(g: GroupTemps): void {
  try {
    g.files.forEach((f, i) => renamePath(g.temps[i]!, f));
  } catch (err) {
    removeGroupTemps(g); // the ones not renamed yet; the others are gone from their temp names
    throw err;
  }
  groupSync(g.dirs, []);
}

export function removeGroupTemps(g: GroupTemps): void {
  for (const t of g.temps) removeFile(t);
}

export function writeJsonAtomic(file: string, value: unknown, opts: AtomicWriteOptions = {}): void {
  writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n', opts);
}

/** Reads JSON into null-prototype objects (common/json.ts): names read from disk are never inherited keys. */
export function readJson<T>(file: string): T {
  return parseJson(fs.readFileSync(file, 'utf8')) as T;
}


/** Blocks the thread without spinning; used for short lock back-offs and rate limiting. */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
