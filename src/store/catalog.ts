import fs from 'node:fs';
import path from 'node:path';
import { CvError, notFound, usage } from '../common/errors.js';
import { readJson, removeGroupTemps, renameGroupTemps, writeFileAtomic, writeGroupTemps, writeJsonAtomic, type GroupTemps } from '../common/durable.js';
import { groupSync } from '../common/group-sync.js';
import { makeDirs, removeFile, syncDir } from '../common/fsio.js';
import { withLock, withLockAsync, type LockOptions } from '../common/lockfile.js';
import { appendChanges } from './chunk-index.js';
import { knownChunkPaths, rememberChunkPaths } from './chunk-paths.js';
import { loadCluster, volumesOf, type ClusterConfig, type Volume } from './cluster.js';
import type { ChunkMeta, DatabaseDef, TableDef } from './catalog-types.js';

export type { ChunkMeta, DatabaseDef, Engine, FileEntry, TableDef, TableVersion } from './catalog-types.js';

/** A handle on one cluster home: its config and where everything lives. */
export class Cluster {
  readonly cfg: ClusterConfig;
  readonly volumes: Volume[];
  constructor(readonly home: string) {
    this.cfg = loadCluster(home);
    this.volumes = volumesOf(this.cfg);
  }
  catalogDir(): string {
    return path.join(this.home, 'catalog');
  }
  dbDir(db: string): string {
    return path.join(this.catalogDir(), dbNameOf(db));
  }
  chunkDir(c: { volume: string; path: string }, db: string): string {
    return path.join(c.volume, 'CHUNKS', dbNameOf(db), ...c.path.split('/').filter(Boolean));
  }
  /**
   * The database's directory on each volume the chunks are on: what a group sync probes for the
   * file systems of their version directories (a volume's CHUNKS/<db> tree is one file system).
   */
  dbRootsOf(chunks: Iterable<{ volume: string }>, db: string): string[] {
    return [...new Set([...chunks].map((k) => path.join(k.volume, 'CHUNKS', dbNameOf(db))))];
  }
  /** Serialises catalog changes of one database across threads and processes. */
  withDbLock<T>(db: string, fn: () => T): T {
    makeDirs(this.catalogDir());
    return withLock(this.dbLockFile(db), this.dbLockOptions(db), () => {
      // A multi-partition commit killed after its commit point is finished by the next lock holder.
      rollForwardLocked(this, db);
      return fn();
    });
  }
  /** withDbLock held across awaits (a group commit waiting on its syncfs); this process's other callers are refused meanwhile (LockFile). */
  withDbLockAsync<T>(db: string, fn: () => Promise<T>): Promise<T> {
    makeDirs(this.catalogDir());
    return withLockAsync(this.dbLockFile(db), this.dbLockOptions(db), () => {
      rollForwardLocked(this, db);
      return fn();
    });
  }
  private dbLockFile(db: string): string {
    return path.join(this.catalogDir(), `${dbNameOf(db)}.lock`);
  }
  private dbLockOptions(db: string): LockOptions {
    return { holder: `writer of ${db}`, waitMs: 60_000, what: `database ${db}` };
  }
  withHomeLock<T>(fn: () => T): T {
    makeDirs(this.catalogDir());
    return withLock(path.join(this.catalogDir(), '.home.lock'), { holder: 'catalog writer', waitMs: 60_000, what: `cluster ${this.home}` }, fn);
  }
}

const DB_RE = /^dfs:\/\/([A-Za-z_][A-Za-z0-9_]*)$/;

export function dbNameOf(dbPath: string): string {
  const m = DB_RE.exec(dbPath);
  if (!m) throw usage(`bad database path "${dbPath}": expected dfs://name (letters, digits, _)`);
  return m[1]!;
}

export function hasDatabase(c: Cluster, db: string): boolean {
  return fs.existsSync(path.join(c.dbDir(db), 'database.json'));
}

export function loadDatabase(c: Cluster, db: string): DatabaseDef {
  const file = path.join(c.dbDir(db), 'database.json');
  if (!fs.existsSync(file)) throw notFound(`database ${db} does not exist in ${c.home}`);
  const def = readJson<DatabaseDef>(file);
  return pendingCommit(c, db)?.def ?? def;
}

export function saveDatabase(c: Cluster, def: DatabaseDef): void {
  writeJsonAtomic(path.join(c.dbDir(def.dbPath), 'database.json'), def);
}

export function tableOf(def: DatabaseDef, table: string): TableDef {
  const t = def.tables[table];
  if (!t) throw notFound(`table ${table} does not exist in ${def.dbPath}`);
  return t;
}

export function listDatabases(c: Cluster): string[] {
  if (!fs.existsSync(c.catalogDir())) return [];
  return fs
    .readdirSync(c.catalogDir(), { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(c.catalogDir(), e.name, 'database.json')))
    .map((e) => `dfs://${e.name}`)
    .sort();
}

export const chunksDir = (c: Cluster, db: string) => path.join(c.dbDir(db), 'chunks');

export function loadChunks(c: Cluster, db: string): ChunkMeta[] {
  return mapChunks(c, db, (k) => k).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * What `pick` takes of every chunk, read as loadChunks reads them (in no order): a reader that
 * needs a little of each of 100,000 chunks does not hold their file lists (issue 14).
 */
export function mapChunks<T>(c: Cluster, db: string, pick: (k: ChunkMeta) => T): T[] {
  const dir = chunksDir(c, db);
  if (!fs.existsSync(dir)) return [];
  const byId = new Map<string, T>();
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const k = readJson<ChunkMeta>(path.join(dir, f));
    byId.set(k.chunkId, pick(k));
  }
  // Read after the chunk files: a commit record present now holds the final state of every chunk it names.
  for (const k of pendingCommit(c, db)?.chunks ?? []) byId.set(k.chunkId, pick(k));
  return [...byId.values()];
}

/**
 * A chunk's file, or undefined when it has none. Read without asking first: an existsSync before
 * each of a backup pin's 2,000 chunk files (many shape) was 2,000 more system calls.
 */
export function readChunkFile(c: Cluster, db: string, id: string): ChunkMeta | undefined {
  try {
    return readJson<ChunkMeta>(path.join(chunksDir(c, db), `${id}.json`));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** loadChunk for many ids, reading the commit record once; no read for an id not in `files` (chunkFileNames, under the lock). */
export function loadChunksById(c: Cluster, db: string, ids: Iterable<string>, files?: ReadonlySet<string>): Map<string, ChunkMeta> {
  const pending = new Map((pendingCommit(c, db)?.chunks ?? []).map((k) => [k.chunkId, k]));
  const out = new Map<string, ChunkMeta>();
  for (const id of ids) {
    const k = pending.get(id) ?? (files && !files.has(`${id}.json`) ? undefined : readChunkFile(c, db, id));
    if (k) out.set(id, k);
  }
  return out;
}

/** The names of the database's chunk files (`<chunkId>.json`), from one readdir. */
export function chunkFileNames(c: Cluster, db: string): Set<string> {
  const dir = chunksDir(c, db);
  return new Set(fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !f.startsWith('.')) : []);
}

/**
 * The partition path of every chunk of a database, as loadChunks would give them, reading only
 * the chunk files this process has neither read nor written before (chunk-paths.ts; one readdir
 * otherwise).
 */
export function chunkPaths(c: Cluster, db: string, names = chunkFileNames(c, db)): Set<string> {
  const dir = chunksDir(c, db);
  const known = knownChunkPaths(c, db);
  for (const f of known.keys()) if (!names.has(f)) known.delete(f);
  for (const f of names) if (!known.has(f)) known.set(f, readJson<ChunkMeta>(path.join(dir, f)).path);
  const out = new Set(known.values());
  for (const k of pendingCommit(c, db)?.chunks ?? []) out.add(k.path);
  return out;
}

export function loadChunk(c: Cluster, db: string, chunkId: string): ChunkMeta | undefined {
  const k = readChunkFile(c, db, chunkId);
  return pendingCommit(c, db)?.chunks.find((x) => x.chunkId === chunkId) ?? k;
}

/** Names chunks in the change log before their files change (chunk-index.ts: what keeps the index exact). */
const logChanges = (c: Cluster, db: string, ids: string[]) => appendChanges(c.dbDir(db), changeMarker(c, db), ids);

/** The atomic switch that makes a new version visible: one rename of the chunk's metadata file. */
export function saveChunk(c: Cluster, db: string, chunk: ChunkMeta): void {
  makeDirs(chunksDir(c, db));
  logChanges(c, db, [chunk.chunkId]);
  writeJsonAtomic(path.join(chunksDir(c, db), `${chunk.chunkId}.json`), chunk);
  rememberChunkPaths(c, db, [chunk]);
}

/** saveChunk for many chunks, made durable as a group (common/durable.ts GroupTemps). */
export function saveChunks(c: Cluster, db: string, chunks: ChunkMeta[]): void {
  if (!chunks.length) return;
  const temps = prepareChunkFiles(c, db, chunks);
  try {
    groupSync(temps.dirs, temps.temps);
  } catch (err) {
    removeGroupTemps(temps);
    throw err;
  }
  installChunkFiles(c, db, chunks, temps);
}

/** The temps of saveChunks, not yet durable nor visible: a group commit makes them durable with its renames. */
export function prepareChunkFiles(c: Cluster, db: string, chunks: ChunkMeta[]): GroupTemps {
  makeDirs(chunksDir(c, db));
  return writeGroupTemps(chunks.map((k) => ({ file: path.join(chunksDir(c, db), `${k.chunkId}.json`), data: JSON.stringify(k, null, 1) + '\n' })));
}

/** saveChunks' last steps, once the temps are durable: the change log, then the renames. */
function installChunkFiles(c: Cluster, db: string, chunks: ChunkMeta[], temps: GroupTemps): void {
  try {
    logChanges(c, db, chunks.map((k) => k.chunkId));
  } catch (err) {
    removeGroupTemps(temps);
    throw err;
  }
  renameGroupTemps(temps);
  rememberChunkPaths(c, db, chunks);
}

export function deleteChunkMeta(c: Cluster, db: string, chunkId: string): void {
  logChanges(c, db, [chunkId]);
  removeFile(path.join(chunksDir(c, db), `${chunkId}.json`));
}

/**
 * A multi-partition commit record (`catalog/<db>/commit.json`): the final metadata of every chunk a
 * load changes and, if its scheme grew, the database definition. Writing it is the commit point;
 * the chunk files are rewritten from it and then it is removed. While it exists, readers take the
 * state it records, and the next holder of the database lock finishes applying it.
 */
export interface CommitRecord {
  format: 1;
  def?: DatabaseDef;
  chunks: ChunkMeta[];
}

export const commitRecordFile = (c: Cluster, db: string) => path.join(c.dbDir(db), 'commit.json');

export function pendingCommit(c: Cluster, db: string): CommitRecord | undefined {
  const file = commitRecordFile(c, db);
  return fs.existsSync(file) ? readJson<CommitRecord>(file) : undefined;
}

/**
 * Applies a commit record: database.json, then every chunk file, then the record goes. Idempotent.
 * The chunk files are written as a group (saveChunks) before the record is removed: until then
 * the record still holds their content. `durableTemps`: the chunk files' temps, already written
 * (prepareChunkFiles) and made durable before the record was (publishLocked).
 */
export function applyCommitLocked(c: Cluster, db: string, rec: CommitRecord, durableTemps?: GroupTemps): void {
  if (rec.def) writeJsonAtomic(path.join(c.dbDir(db), 'database.json'), rec.def);
  if (durableTemps) installChunkFiles(c, db, rec.chunks, durableTemps);
  else saveChunks(c, db, rec.chunks);
  removeFile(commitRecordFile(c, db));
  syncDir(c.dbDir(db));
}

function rollForwardLocked(c: Cluster, db: string): void {
  if (!fs.existsSync(path.join(c.dbDir(db), 'database.json'))) return;
  const rec = pendingCommit(c, db);
  if (rec) applyCommitLocked(c, db, rec);
}

/**
 * The database's change marker: the next commit id, which every change that supersedes or drops a
 * version advances (commits take ids; drops take one too). Equal markers under the lock mean no
 * version was superseded or dropped in between. '' when the database is gone.
 */
export function changeMarker(c: Cluster, db: string): string {
  const file = path.join(c.dbDir(db), 'next-cid');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** Allocates the next commit id. Must run under the database lock; a crash may skip an id, never reuse one. */
export function nextCid(c: Cluster, db: string): number {
  const file = path.join(c.dbDir(db), 'next-cid');
  const cid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 1;
  if (!Number.isInteger(cid) || cid < 1) throw new CvError('CORRUPT', `${file} is damaged`);
  writeFileAtomic(file, String(cid + 1));
  return cid;
}

/** Allocates n consecutive commit ids with one write; returns the first. Same rules as nextCid. */
export function nextCids(c: Cluster, db: string, n: number): number {
  const file = path.join(c.dbDir(db), 'next-cid');
  const cid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 1;
  if (!Number.isInteger(cid) || cid < 1) throw new CvError('CORRUPT', `${file} is damaged`);
  writeFileAtomic(file, String(cid + n));
  return cid;
}
