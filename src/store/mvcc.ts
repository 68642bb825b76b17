import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { CvError } from '../common/errors.js';
import { readJson, writeFileAtomic } from '../common/durable.js';
import { makeDirs, makeDirsDeferred, removeEmptyDir, removeFile, removeTree, renamePath, syncDir } from '../common/fsio.js';
import { groupSync } from '../common/group-sync.js';
import { pidAlive } from '../common/lockfile.js';
import { Cluster, changeMarker, deleteChunkMeta, loadChunk, loadChunks, loadDatabase, nextCid, saveChunk, saveChunks, tableOf, type ChunkMeta, type DatabaseDef, type FileEntry } from './catalog.js';
import type { ChunkSummary } from './chunk-index.js';
import { foldLongLogLocked, loadPinnedLocked, loadSummaries } from './chunk-summaries.js';

/**
 * Multi-version concurrency: a commit writes a new version directory, renames it into place and
 * switches the chunk's metadata file atomically. Files are never modified once named. Readers
 * and backups pin the versions they use; GC removes only versions that are superseded and unpinned.
 * Functions named *Locked must run inside Cluster.withDbLock; commit.ts is the API outside the lock.
 */

const STAGING_RE = /^\.(.+)_tid_(\d+)_[0-9a-f]+$/;

/**
 * Chunks whose directory this process's placement made (ensureChunksLocked). A publish that only
 * adds versions to such a chunk skips its GC (multi-commit.ts): nothing there is superseded, and
 * what else could be there (a crashed concurrent writer's stage) waits for the chunk's next GC.
 * Weak, so a placement's chunks go with it.
 */
const madeHere = new WeakSet<ChunkMeta>();
export const dirMadeHere = (k: ChunkMeta): boolean => madeHere.has(k);

/**
 * Finds the chunks for partition paths, creating missing ones (placed round-robin over volumes).
 * Reads the catalog once however many paths are asked for. `placeOnly`: a missing chunk gets its
 * placement and directory but no chunk file; commitStages then creates it with its first version.
 * `newDirs`: the directories whose entries changed are added there, for the caller to make durable
 * (commit.ts placeChunks), instead of being synced here.
 */
export function ensureChunksLocked(c: Cluster, db: string, wanted: { path: string; chunkId?: string }[], opts: { placeOnly?: boolean; newDirs?: string[] } = {}): Map<string, ChunkMeta> {
  const chunks = loadChunks(c, db);
  const byPath = new Map(chunks.map((k) => [k.path, k]));
  let count = chunks.length;
  const made: ChunkMeta[] = [];
  const parents = new Set<string>();
  for (const w of wanted) {
    if (byPath.has(w.path)) continue;
    const vol = c.volumes[count++ % c.volumes.length]!;
    const chunk: ChunkMeta = { chunkId: w.chunkId ?? randomUUID(), path: w.path, node: vol.node, volume: vol.path, tables: {} };
    const levels = makeDirsDeferred(c.chunkDir(chunk, db));
    if (levels.length) madeHere.add(chunk);
    for (const p of levels) parents.add(p);
    made.push(chunk);
    byPath.set(w.path, chunk);
  }
  // The directories, then the chunk files, each made durable as a group (2,000 new chunks: 19.5 s
  // of fsyncs one by one in a profile of restore, see docs/PERFORMANCE.md).
  if (opts.newDirs) opts.newDirs.push(...parents);
  else groupSync([...parents], []);
  if (made.length && !opts.placeOnly) saveChunks(c, db, made);
  return byPath;
}

export interface StagedVersion {
  dir: string;
  rows: number;
  files: FileEntry[];
  origin?: { chunkId: string; cid: number };
}

/** Publishes a staged version: new cid, rename into place, atomic metadata switch, then GC. */
export function commitVersionLocked(c: Cluster, db: string, chunkId: string, table: string, staged: StagedVersion): ChunkMeta {
  const chunk = loadChunk(c, db, chunkId);
  if (!chunk) throw new CvError('CONFLICT', `partition ${chunkId} of ${db} was dropped while being written`);
  const t = tableOf(loadDatabase(c, db), table);
  syncDir(staged.dir);
  foldLongLogLocked(c, db);
  const cid = nextCid(c, db);
  const version = `${table}_${t.physIndex}_${cid}`;
  const chunkDir = c.chunkDir(chunk, db);
  renamePath(staged.dir, path.join(chunkDir, version));
  syncDir(chunkDir);
  chunk.tables[table] = {
    cid,
    version,
    rows: staged.rows,
    bytes: staged.files.reduce((a, f) => a + f.size, 0),
    files: staged.files,
    updateTime: new Date().toISOString(),
    ...(staged.origin ? { origin: staged.origin } : {}),
  };
  saveChunk(c, db, chunk);
  gcChunkLocked(c, db, chunk);
  return chunk;
}

// ---- pins ----

interface PinRecord {
  pid: number;
  host: string;
  db: string;
  dirs: string[];
}

export interface Snapshot<K extends ChunkSummary = ChunkMeta> {
  /** The chunk metadata as of the pin: a consistent view across every table and partition. */
  chunks: K[];
  /** The database's scheme and schemas as of the same instant: every chunk path fits this scheme. */
  def: DatabaseDef;
  release(): void;
}

/** A pin of the chunks' summaries, with the full metadata (file lists) of the chunks asked for. */
export interface SummarySnapshot extends Snapshot<ChunkSummary> {
  /** A chunk `withFiles` selected, as pinned, with its file lists. */
  full(k: ChunkSummary): ChunkMeta;
}

const pinsDir = (c: Cluster) => path.join(c.home, 'pins');

/** Pins every current version of a database, atomically with respect to commits and GC. */
export function pinDatabase(c: Cluster, db: string): Snapshot {
  return pinWith(c, db, () => loadChunks(c, db));
}

/**
 * pinDatabase reading the catalog index (chunk-summaries.ts) instead of every chunk file, and the
 * chunk files of only the chunks `withFiles` selects, under the same lock: a backup asks for
 * those it will copy. At 100,000 partitions the pin of a no-change backup reads one file.
 */
export function pinSummaries(c: Cluster, db: string, withFiles: (k: ChunkSummary) => boolean): SummarySnapshot {
  let full = new Map<string, ChunkMeta>();
  const snap = pinWith(c, db, () => {
    const pinned = loadPinnedLocked(c, db, withFiles);
    full = pinned.full;
    return pinned.chunks;
  });
  return {
    ...snap,
    full(k) {
      const f = full.get(k.chunkId);
      if (!f) throw new Error(`internal: chunk ${k.chunkId} was pinned without its file lists`); // a bug: exit 1
      return f;
    },
  };
}

function pinWith<K extends ChunkSummary>(c: Cluster, db: string, read: () => K[]): Snapshot<K> {
  const file = path.join(pinsDir(c), `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  let marker = '';
  // The definition is read under the same lock as the chunks: a writer that adds a VALUE partition
  // saves database.json and the new chunk under that lock, so the two always agree.
  const { chunks, def } = c.withDbLock(db, () => {
    const def = loadDatabase(c, db);
    const chunks = read();
    marker = changeMarker(c, db);
    makeDirs(pinsDir(c));
    writeFileAtomic(file, pinRecord(c, db, chunks));
    return { chunks, def };
  });
  let released = false;
  return {
    chunks,
    def,
    release() {
      if (released) return;
      released = true;
      // Versions superseded or dropped while pinned are removed now, unless another pin holds them.
      try {
        c.withDbLock(db, () => {
          // Nothing superseded or dropped since the pin: every pinned version is still current, and
          // reading the catalog again would find nothing to remove.
          if (changeMarker(c, db) === marker) return;
          // The pinned directories come back from the record, so the pin holds no chunk after it is made.
          const pinned = readJson<PinRecord>(file).dirs;
          removeFile(file);
          collectUnpinned(c, db, pinned);
        });
      } finally {
        removeFile(file);
      }
    },
  };
}

/** Removes each of `dirs` that is no longer current nor held by a live pin (under the database lock). */
function collectUnpinned(c: Cluster, db: string, dirs: string[]): void {
  const live = loadSummaries(c, db);
  const current = new Set(versionDirs(c, db, live));
  const liveChunkDirs = new Set(live.map((k) => c.chunkDir(k, db)));
  const pins = livePins(c);
  for (const d of dirs) {
    if (current.has(d) || pins.has(d) || !fs.existsSync(d)) continue;
    removeTree(d);
    // Only a dropped chunk's directory goes; a chunk still in the catalog keeps its (empty) directory.
    if (!liveChunkDirs.has(path.dirname(d)) && fs.readdirSync(path.dirname(d)).length === 0) removeEmptyDir(path.dirname(d));
  }
}

/** The current version directory of every table of every chunk, one at a time. */
function* versionDirs(c: Cluster, db: string, chunks: ChunkSummary[]): Generator<string> {
  for (const k of chunks) {
    const dir = c.chunkDir(k, db);
    for (const t of Object.values(k.tables)) yield `${dir}/${t.version}`;
  }
}

/**
 * A pin record (PinRecord) as runs of text: at 100,000 partitions its 200,000 directories held as
 * strings, then as one JSON string, took the pin from 170 to 290 MB of heap. Runs of 64 Ki
 * characters stay below V8's large-object size, so they die young instead of waiting for a full GC.
 */
function* pinRecord(c: Cluster, db: string, chunks: ChunkSummary[]): Generator<string> {
  let run = `{"pid":${process.pid},"host":${JSON.stringify(os.hostname())},"db":${JSON.stringify(db)},"dirs":[`;
  let first = true;
  for (const d of versionDirs(c, db, chunks)) {
    run += (first ? '\n' : ',\n') + JSON.stringify(d);
    first = false;
    if (run.length >= 1 << 16) {
      yield run;
      run = '';
    }
  }
  yield run + ']}\n';
}

/** Every version directory pinned by a live process. Pins of dead processes are removed. */
export function livePins(c: Cluster): Set<string> {
  const out = new Set<string>();
  if (!fs.existsSync(pinsDir(c))) return out;
  for (const f of fs.readdirSync(pinsDir(c))) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const file = path.join(pinsDir(c), f);
    let rec: PinRecord;
    try {
      rec = readJson<PinRecord>(file);
    } catch {
      continue;
    }
    if (rec.host === os.hostname() && !pidAlive(rec.pid)) {
      removeFile(file);
      continue;
    }
    for (const d of rec.dirs) out.add(d);
  }
  return out;
}

// ---- garbage collection ----

/** Removes superseded, unpinned versions and dead writers' staging directories from one chunk directory. */
export function gcChunkLocked(c: Cluster, db: string, chunk: ChunkSummary, pins = livePins(c)): number {
  const dir = c.chunkDir(chunk, db);
  if (!fs.existsSync(dir)) return 0;
  const current = new Set(Object.values(chunk.tables).map((t) => t.version));
  let removed = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || current.has(e.name)) continue;
    const full = path.join(dir, e.name);
    if (pins.has(full)) continue;
    const staging = STAGING_RE.exec(e.name);
    if (staging && pidAlive(Number(staging[2]))) continue;
    removeTree(full);
    removed++;
  }
  if (removed) syncDir(dir);
  return removed;
}

export function gcDatabaseLocked(c: Cluster, db: string): number {
  const pins = livePins(c);
  return loadSummaries(c, db).reduce((a, k) => a + gcChunkLocked(c, db, k, pins), 0);
}

/** Drops a chunk from the catalog; its files go at once unless a pin still holds a version. */
export function dropChunkLocked(c: Cluster, db: string, chunk: ChunkMeta): void {
  deleteChunkMeta(c, db, chunk.chunkId);
  syncDir(path.join(c.dbDir(db), 'chunks'));
  removeUnpinnedTree(c.chunkDir(chunk, db), livePins(c));
}

/** Deletes a chunk directory's version directories except pinned ones, then the directory if empty. */
export function removeUnpinnedTree(dir: string, pins: Set<string>): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir)) {
    const full = path.join(dir, e);
    if (!pins.has(full)) removeTree(full);
  }
  if (fs.readdirSync(dir).length === 0) removeEmptyDir(dir);
}
