import fs from 'node:fs';
import path from 'node:path';
import { CvError, notFound, usage } from '../common/errors.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../common/durable.js';
import { makeDirs, removeFile } from '../common/fsio.js';
import { withLock } from '../common/lockfile.js';
import { loadCluster, volumesOf, type ClusterConfig, type Volume } from './cluster.js';
import type { Scheme } from './scheme.js';
import type { ColumnDef } from './types.js';

export type Engine = 'OLAP' | 'TSDB';

export interface TableDef {
  name: string;
  schema: ColumnDef[];
  partitionColumns: string[];
  sortColumns?: string[];
  /** DolphinDB's physical index: names the table's version directories `<table>_<n>_<cid>`. */
  physIndex: number;
}

export interface DatabaseDef {
  format: 1;
  dbPath: string;
  engine: Engine;
  scheme: Scheme;
  tables: Record<string, TableDef>;
  nextPhysIndex: number;
  created: string;
}

export interface FileEntry {
  name: string;
  size: number;
}

/** One committed version of one table's data in one chunk. */
export interface TableVersion {
  cid: number;
  /** Directory name inside the chunk directory: `<table>_<physIndex>_<cid>`. */
  version: string;
  rows: number;
  bytes: number;
  files: FileEntry[];
  updateTime: string;
  /** Where restored data came from, so a rerun can tell the target already holds it. */
  origin?: { chunkId: string; cid: number };
}

export interface ChunkMeta {
  chunkId: string;
  path: string;
  node: string;
  volume: string;
  tables: Record<string, TableVersion>;
}

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
  /** Serialises catalog changes of one database across threads and processes. */
  withDbLock<T>(db: string, fn: () => T): T {
    makeDirs(this.catalogDir());
    return withLock(path.join(this.catalogDir(), `${dbNameOf(db)}.lock`), { holder: `writer of ${db}`, waitMs: 60_000, what: `database ${db}` }, fn);
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
  return readJson<DatabaseDef>(file);
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

const chunksDir = (c: Cluster, db: string) => path.join(c.dbDir(db), 'chunks');

export function loadChunks(c: Cluster, db: string): ChunkMeta[] {
  const dir = chunksDir(c, db);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => readJson<ChunkMeta>(path.join(dir, f)))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function loadChunk(c: Cluster, db: string, chunkId: string): ChunkMeta | undefined {
  const file = path.join(chunksDir(c, db), `${chunkId}.json`);
  return fs.existsSync(file) ? readJson<ChunkMeta>(file) : undefined;
}

/** The atomic switch that makes a new version visible: one rename of the chunk's metadata file. */
export function saveChunk(c: Cluster, db: string, chunk: ChunkMeta): void {
  makeDirs(chunksDir(c, db));
  writeJsonAtomic(path.join(chunksDir(c, db), `${chunk.chunkId}.json`), chunk);
}

export function deleteChunkMeta(c: Cluster, db: string, chunkId: string): void {
  removeFile(path.join(chunksDir(c, db), `${chunkId}.json`));
}

/** Allocates the next commit id. Must run under the database lock; a crash may skip an id, never reuse one. */
export function nextCid(c: Cluster, db: string): number {
  const file = path.join(c.dbDir(db), 'next-cid');
  const cid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 1;
  if (!Number.isInteger(cid) || cid < 1) throw new CvError('CORRUPT', `${file} is damaged`);
  writeFileAtomic(file, String(cid + 1));
  return cid;
}
