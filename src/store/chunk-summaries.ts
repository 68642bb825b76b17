import fs from 'node:fs';
import path from 'node:path';
import { parseJson } from '../common/json.js';
import { changeMarker, chunksDir, loadChunksById, mapChunks, pendingCommit, readChunkFile, type ChunkMeta, type Cluster } from './catalog.js';
import { CHANGES_FILE, readChanges, readIndex, summarize, writeIndex, type ChunkSummary, type ReadIndex } from './chunk-index.js';

/**
 * Every chunk of a database as its summary (no file lists), read from the catalog index and the
 * chunk files its change log names (chunk-index.ts), or from every chunk file when the index cannot
 * be trusted: none yet (a home written before it), a damaged log, or a change marker that moved
 * without a log line (a writer that did not keep the log). At 100,000 partitions: one 27 MB file
 * instead of 100,000 (read and parsed in 5–10 s).
 *
 * Read in this order (marker, log, index, then the named chunk files, then the commit record), a
 * reader without the lock still gets each chunk as it was at the start or later: an index written
 * meanwhile holds at least what the log it replaced named.
 */
export function readSummaries(c: Cluster, db: string): { chunks: Map<string, ChunkSummary>; indexed?: Indexed; changed: number } {
  const read = indexedSummaries(c, db);
  if (read) return read;
  const chunks = new Map(mapChunks(c, db, (k) => [k.chunkId, summarize(k)] as const));
  return { chunks, changed: chunks.size };
}

/** What an indexed read went by: the index file's identity (ReadIndex.key) and the chunk ids its change log named. */
interface Indexed {
  key: string;
  logged: Set<string>;
}

/** readSummaries from the index and its log; undefined when the index cannot be trusted. */
function indexedSummaries(c: Cluster, db: string): { chunks: Map<string, ChunkSummary>; indexed: Indexed; changed: number } | undefined {
  const dir = c.dbDir(db);
  const marker = changeMarker(c, db);
  const log = readChanges(dir);
  const index = log === 'damaged' ? undefined : readIndexCached(c, db);
  if (log === 'damaged' || !index || (log.marker ?? index.marker) !== marker) return undefined;
  const chunks = new Map(index.chunks);
  for (const id of log.ids) {
    const k = readChunkFile(c, db, id);
    if (k) chunks.set(id, summarize(k));
    else chunks.delete(id);
  }
  for (const k of pendingCommit(c, db)?.chunks ?? []) chunks.set(k.chunkId, summarize(k));
  return { chunks, indexed: { key: index.key, logged: log.ids }, changed: log.ids.size };
}

/**
 * The index this process last read of each database, kept for one more read: a backup reads it to
 * warm the chunk files it will copy and again under the pin's lock, and the second read then costs
 * one fstat. Taken by that read, so 100,000 summaries are not held after the pin is done with them.
 * Callers must not change the summaries they get.
 */
const lastIndex = new WeakMap<Cluster, Map<string, ReadIndex>>();

function readIndexCached(c: Cluster, db: string): ReadIndex | undefined {
  const perDb = lastIndex.get(c) ?? new Map<string, ReadIndex>();
  lastIndex.set(c, perDb);
  const known = perDb.get(db);
  perDb.delete(db);
  const read = readIndex(c.dbDir(db), known);
  if (read && read !== known) perDb.set(db, read);
  return read;
}

/** Every chunk of a database as its summary, in no order (readSummaries). */
export function loadSummaries(c: Cluster, db: string): ChunkSummary[] {
  return [...readSummaries(c, db).chunks.values()];
}

/**
 * The summaries under the database lock, and the chunk files of those `withFiles` selects (their
 * file lists), writing a new index when the old one could not be used or its log names many
 * chunks: the next reader then reads one file again. The lock holder has already applied any
 * commit record (Cluster.withDbLock), so the summaries are the catalog.
 */
export function loadPinnedLocked(c: Cluster, db: string, withFiles: (k: ChunkSummary) => boolean): { chunks: ChunkSummary[]; full: Map<string, ChunkMeta> } {
  const { chunks, indexed, changed } = readSummaries(c, db);
  const ids = [...chunks.values()].filter(withFiles).map((k) => k.chunkId);
  // Taken before a reindex below empties the log this relies on.
  const warm = stillWarm(c, db, indexed);
  if (!indexed || changed > Math.max(REINDEX_CHANGES, chunks.size / 32)) reindexLocked(c, db, chunks.values());
  const full = loadChunksById(c, db, ids.filter((id) => !warm.has(id)));
  for (const id of ids) if (warm.has(id)) full.set(id, warm.get(id)!);
  return { chunks: [...chunks.values()], full };
}

/** A log naming fewer chunks than this (or 1/32 of them) is read through rather than folded into a new index. */
const REINDEX_CHANGES = 256;

/**
 * A change log past this size is folded into a new index at the next commit. Only a pin folds it
 * otherwise, so a database that is loaded often and never backed up would keep a growing log that
 * every reader parses: 1 MiB is ~17,000 one-chunk commits, and parsing it costs a few ms.
 */
export const FOLD_LOG_BYTES = 1 << 20;

/** Under the database lock, before a commit changes anything: folds a long change log into a new index. */
export function foldLongLogLocked(c: Cluster, db: string): void {
  const size = fs.statSync(path.join(c.dbDir(db), CHANGES_FILE), { throwIfNoEntry: false })?.size ?? 0;
  if (size > FOLD_LOG_BYTES && !pendingCommit(c, db)) reindexLocked(c, db, readSummaries(c, db).chunks.values());
}

/** A new, empty database's index, so that its catalog is indexed from its first commit on. */
export function indexNewDatabase(c: Cluster, db: string): void {
  reindexLocked(c, db, []);
}

/** Writes the index of `chunks` (the catalog as the lock holder read it), sorted by path, at the current marker. */
function reindexLocked(c: Cluster, db: string, chunks: Iterable<ChunkSummary>): void {
  writeIndex(c.dbDir(db), changeMarker(c, db), [...chunks].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
}

/** Chunk files warmChunks read and parsed, with the index identity (ReadIndex.key) it read them against. */
interface Warmed {
  key: string;
  chunks: Map<string, ChunkMeta>;
}
/** The last warm read of each database, per cluster handle; taken by the next pin (stillWarm). */
const warmed = new WeakMap<Cluster, Map<string, Warmed>>();

/**
 * The chunk files the last warmChunks of `db` parsed that cannot have changed since, under the
 * database lock (taken: read once). The rule (chunk-index.ts): a chunk file changes only after its
 * id is durably in the change log, and the log is emptied only after a new index replaced the old
 * one. warmChunks took the index's identity before its first read; the same identity now means no
 * log was emptied since, so every chunk file changed since is named in the log read under this
 * lock, and the others are as warmChunks read them. A commit record not yet applied: none taken.
 */
function stillWarm(c: Cluster, db: string, indexed: Indexed | undefined): Map<string, ChunkMeta> {
  const w = warmed.get(c)?.get(db);
  warmed.get(c)?.delete(db);
  if (!w || !indexed || w.key !== indexed.key || pendingCommit(c, db)) return new Map();
  for (const id of indexed.logged) w.chunks.delete(id);
  return w.chunks;
}

/**
 * Reads and parses the chunk files `wanted` selects (by summary; default all) once, asynchronously
 * and many at a time, before the pin takes the database lock: the pin then takes the ones that
 * cannot have changed (stillWarm) and reads only the rest under the lock. Cold, 2,000 chunk files
 * read one by one under the lock took 1.7 s of a 7 s backup (profile in docs/PERFORMANCE.md); read
 * here and again under the lock, the second read was ~0.2 s of the many shape's main thread.
 * Changes nothing; errors are left for the real read to report. Returns at once how many chunk
 * files it reads and their tables' bytes by the index (none without one), so a backup that will
 * copy boots its workers meanwhile (how many: engine/options.ts workersFor), and when they are read.
 */
export function warmChunks(c: Cluster, db: string, wanted: (k: ChunkSummary) => boolean = () => true, concurrency = 32): { chunks: number; bytes?: number; done: Promise<void> } {
  let read: ReturnType<typeof indexedSummaries>;
  let names: string[];
  let bytes: number | undefined;
  try {
    // Without a usable index the pin reads every chunk file: warm them all, as listed, and keep none.
    read = indexedSummaries(c, db);
    const picked = read ? [...read.chunks.values()].filter(wanted) : undefined;
    if (picked) bytes = picked.reduce((sum, k) => Object.values(k.tables).reduce((s, t) => s + t.bytes, sum), 0);
    names = picked ? picked.map((k) => k.chunkId) : fs.readdirSync(chunksDir(c, db)).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => f.slice(0, -5));
  } catch {
    return { chunks: 0, done: Promise.resolve() };
  }
  const parsed = new Map<string, ChunkMeta>();
  const perDb = warmed.get(c) ?? new Map<string, Warmed>();
  warmed.set(c, perDb);
  perDb.delete(db);
  let next = 0;
  const dir = chunksDir(c, db);
  const lane = async () => {
    const buf = Buffer.allocUnsafe(SMALL);
    while (next < names.length) {
      const id = names[next++]!;
      const text = await readSmallText(path.join(dir, `${id}.json`), buf);
      try {
        if (read && text !== undefined) parsed.set(id, parseJson(text) as ChunkMeta);
      } catch {
        // Left for the pin's own read to report.
      }
    }
  };
  const done = Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, lane)).then(() => {
    if (read) perDb.set(db, { key: read.indexed.key, chunks: parsed });
  });
  return { chunks: names.length, ...(bytes === undefined ? {} : { bytes }), done };
}

const SMALL = 64 * 1024;

/**
 * A file's text, or undefined when it cannot be read: open, one read, close, with callbacks.
 * The warm read sits on a backup-all's critical path (its first copy waits for the plan), and
 * `fs.promises.readFile` (open, fstat, read, read, close, each through a FileHandle's promises)
 * took twice as long: 4,000 chunk files in 227–267 ms against 108–119 ms (PERFORMANCE.md,
 * sessions 15 and 16). A file of `buf`'s size or more takes readFile's path.
 */
function readSmallText(file: string, buf: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    fs.open(file, 'r', (err, fd) => {
      if (err) return resolve(undefined);
      fs.read(fd, buf, 0, SMALL, 0, (rerr, n) => {
        fs.close(fd, () => undefined);
        if (rerr) resolve(undefined);
        else if (n < SMALL) resolve(buf.toString('utf8', 0, n));
        else resolve(fs.promises.readFile(file, 'utf8').catch(() => undefined));
      });
    });
  });
}
