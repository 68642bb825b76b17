import fs from 'node:fs';
import path from 'node:path';
import { changeMarker, chunksDir, mapChunks, pendingCommit, readChunkFile, type Cluster } from './catalog.js';
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
export function readSummaries(c: Cluster, db: string): { chunks: Map<string, ChunkSummary>; indexed: boolean; changed: number } {
  const read = indexedSummaries(c, db);
  if (read) return { ...read, indexed: true };
  const chunks = new Map(mapChunks(c, db, (k) => [k.chunkId, summarize(k)] as const));
  return { chunks, indexed: false, changed: chunks.size };
}

/** readSummaries from the index and its log; undefined when the index cannot be trusted. */
function indexedSummaries(c: Cluster, db: string): { chunks: Map<string, ChunkSummary>; changed: number } | undefined {
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
  return { chunks, changed: log.ids.size };
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
 * The summaries under the database lock, writing a new index when the old one could not be used
 * or its log names many chunks: the next reader then reads one file again. The lock holder has
 * already applied any commit record (Cluster.withDbLock), so the summaries are the catalog.
 */
export function loadSummariesLocked(c: Cluster, db: string): ChunkSummary[] {
  const { chunks, indexed, changed } = readSummaries(c, db);
  if (!indexed || changed > Math.max(REINDEX_CHANGES, chunks.size / 32)) reindexLocked(c, db, chunks.values());
  return [...chunks.values()];
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

/**
 * Reads the chunk files `wanted` selects (by summary; default all) once, asynchronously and many at a
 * time, so that the synchronous reads under the database lock find them in the page cache. Cold,
 * 2,000 chunk files read one by one under the lock took 1.7 s of a 7 s backup (profile in
 * docs/PERFORMANCE.md). Changes nothing; errors are left for the real read to report. Returns at
 * once how many chunk files it reads (a backup that will copy boots its workers meanwhile) and
 * when they are read.
 */
export function warmChunks(c: Cluster, db: string, wanted: (k: ChunkSummary) => boolean = () => true, concurrency = 32): { chunks: number; done: Promise<void> } {
  let names: string[];
  try {
    // Without a usable index the pin reads every chunk file: warm them all, as listed.
    const indexed = indexedSummaries(c, db)?.chunks;
    names = indexed ? [...indexed.values()].filter(wanted).map((k) => `${k.chunkId}.json`) : fs.readdirSync(chunksDir(c, db)).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
  } catch {
    return { chunks: 0, done: Promise.resolve() };
  }
  let next = 0;
  const lane = async () => {
    while (next < names.length) await fs.promises.readFile(path.join(chunksDir(c, db), names[next++]!)).catch(() => undefined);
  };
  return { chunks: names.length, done: Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, lane)).then(() => undefined) };
}
