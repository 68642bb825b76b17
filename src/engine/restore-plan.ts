import fs from 'node:fs';
import path from 'node:path';
import { CvError, notFound } from '../common/errors.js';
import { makeDirs } from '../common/fsio.js';
import { LockFile } from '../common/lockfile.js';
import {
  Cluster,
  addValuePartitions,
  createDatabase,
  createPartitionedTable,
  dbNameOf,
  hasDatabase,
  initCluster,
  isCluster,
  isUnfinishedHome,
  loadChunks,
  loadDatabase,
  type ChunkMeta,
  type TableVersion,
} from '../store/index.js';
import { checkEngine, checkTableSchema, pathChecker, valueAdditions } from './compat.js';
import type { PartitionPattern } from './pattern.js';
import type { ManifestEntry, ManifestHead, ManifestPartition } from '../repo/manifest.js';
import { PartitionLines } from '../repo/partition-lines.js';
import { Repository } from '../repo/repository.js';
import type { PasswordSource } from '../repo/config.js';

/** A backup table restored into a target table (the same name unless renamed). */
export interface TablePair {
  src: string;
  dst: string;
}

/** A restore point as a restore reads it: its partitions kept as their lines (partition-lines.ts). */
export type SourceManifest = ManifestHead & { partitions: PartitionLines };

export interface SourcePoint {
  repo: Repository;
  manifest: SourceManifest;
}

/** Opens a database's repository and picks the restore point (names and structure validated on read). */
export function openPoint(backupDir: string, dbPath: string, asOf?: string, password?: PasswordSource): SourcePoint {
  const repo = Repository.open(backupDir, dbPath, false, undefined, password ? { password } : {});
  return keptAsLines(repo, (each) => repo.scanPoint(asOf, each));
}

/** openPoint of the point `pointId` of a repository already open (its head read before: migrate). */
export function scanSource(repo: Repository, pointId: string): SourcePoint {
  return keptAsLines(repo, (each) => repo.scanPointId(pointId, each));
}

/** A scan's partitions kept as their lines, with the head it returns once they all passed. */
function keptAsLines(repo: Repository, scan: (each: (p: ManifestPartition, line?: Buffer) => void) => ManifestHead): SourcePoint {
  const partitions = new PartitionLines();
  const head = scan((p, line) => partitions.add(p, line));
  return { repo, manifest: { ...head, partitions } };
}

/** The tables must be in the restore point and a pattern other than % must match a partition of them. */
export function checkSelection(m: SourceManifest, pairs: TablePair[], pattern: PartitionPattern): void {
  for (const p of pairs) if (!Object.hasOwn(m.tables, p.src)) throw notFound(`table ${p.src} is not in restore point ${m.pointId} of ${m.dbPath}`);
  const dbName = dbNameOf(m.dbPath);
  const matches = (p: ManifestPartition) => pairs.some((t) => p.tables[t.src]) && pattern.matches(dbName, p.path);
  if (!pattern.all && !some(m.partitions, matches))
    throw notFound(`no partition of ${pairs.map((p) => p.src).join(', ')} in restore point ${m.pointId} matches ${pattern.text}`);
}

const some = <T>(items: Iterable<T>, test: (x: T) => boolean) => {
  for (const x of items) if (test(x)) return true;
  return false;
};

/**
 * The target cluster. A home that does not exist yet, is an empty directory, or is a layout that a
 * killed run left unfinished, is laid out with the default layout (one node, one volume) when
 * `mayInit`; any other non-empty directory that is not a cluster home is refused.
 */
export function openTargetCluster(homeDir: string, mayInit: boolean): Cluster {
  const home = path.resolve(homeDir); // volume paths in a new config must be absolute
  if (mayInit && !isCluster(home)) {
    const st = fs.statSync(home, { throwIfNoEntry: false });
    if (!st || (st.isDirectory() && fs.readdirSync(home).length === 0) || isUnfinishedHome(home)) {
      try {
        initCluster(home);
      } catch (err) {
        if (!(err instanceof CvError && err.code === 'CONFLICT')) throw err; // a concurrent restore made it first
      }
    }
  }
  return new Cluster(home);
}

/** One restore into one target database at a time: a second fails fast, naming the holder. */
export function lockTarget(c: Cluster, targetDb: string, holder: string): LockFile {
  makeDirs(c.catalogDir());
  return LockFile.acquire(path.join(c.catalogDir(), `${dbNameOf(targetDb)}.restore.lock`), { holder, waitMs: 0, what: `restore into ${targetDb} in ${c.home}` });
}

/**
 * Makes the target ready: creates the database and tables when missing (if `create`), checks
 * engine, scheme and schemas, and adds the backup's VALUE partitions the target lacks.
 */
export function prepareTarget(c: Cluster, m: ManifestHead, targetDb: string, pairs: TablePair[], create: { db: boolean; tables: boolean }): void {
  if (!hasDatabase(c, targetDb)) {
    if (!create.db) throw notFound(`database ${targetDb} does not exist in ${c.home}`);
    try {
      createDatabase(c, targetDb, m.engine, structuredClone(m.scheme));
    } catch (err) {
      if (!(err instanceof CvError && err.code === 'CONFLICT' && hasDatabase(c, targetDb))) throw err;
    }
  }
  // Read without the database lock, as planRestore reads: database.json is replaced atomically,
  // and addValuePartitions (under the lock) skips values a writer added meanwhile.
  const def = loadDatabase(c, targetDb);
  checkEngine(def, m);
  const add = valueAdditions(def.scheme, m.scheme, targetDb);
  const missing: TablePair[] = [];
  for (const p of pairs) {
    const t = def.tables[p.dst];
    if (t) checkTableSchema(t, m.tables[p.src]!, targetDb);
    else missing.push(p);
  }
  if (missing.length && !create.tables) throw notFound(`table ${missing[0]!.dst} does not exist in ${targetDb}`);
  if (add.size) addValuePartitions(c, targetDb, add);
  for (const p of missing) {
    const b = m.tables[p.src]!;
    try {
      createPartitionedTable(c, targetDb, { name: p.dst, schema: b.schema, partitionColumns: b.partitionColumns, ...(b.sortColumns ? { sortColumns: b.sortColumns } : {}) });
    } catch (err) {
      if (!(err instanceof CvError && err.code === 'CONFLICT')) throw err;
      checkTableSchema(loadDatabase(c, targetDb).tables[p.dst]!, b, targetDb);
    }
  }
}

export interface CopyJob {
  path: string;
  pair: TablePair;
  /** The backup's chunk and entry: where the files are and what the target's version records as origin. */
  srcChunkId: string;
  readonly entry: ManifestEntry;
  /** The entry's cid, bytes and file count, kept so that batching, warming and totals do not read `entry` again. */
  readonly size: EntrySize;
  /** chunkId for a chunk the restore creates: the backup's when restoring into the same database path. */
  newChunkId?: string;
}

export interface EntrySize {
  cid: number;
  bytes: number;
  files: number;
}

/** A job whose entry is read from the point's lines when asked for: a plan of 200,000 jobs holds no file list. */
class LineJob implements CopyJob {
  newChunkId?: string;
  constructor(
    readonly path: string,
    readonly pair: TablePair,
    readonly srcChunkId: string,
    private readonly lines: PartitionLines,
    /** The partition's place in the point: jobs are ordered by it. */
    readonly index: number,
    readonly size: EntrySize,
    newChunkId: string | undefined,
  ) {
    if (newChunkId) this.newChunkId = newChunkId;
  }
  /** Parsed from the point's line at each call (the line holds every table of the partition). */
  get entry(): ManifestEntry {
    return this.lines.at(this.index).tables[this.pair.src]!;
  }
}

export interface RestorePlan {
  jobs: CopyJob[];
  skipped: { path: string; table: string }[];
  /** Target partitions of a restored table that the restore point lacks (deleted unless keepExtra). */
  extras: { path: string; table: string }[];
  /** Matched partitions per target table, for progress. */
  perTable: Map<string, number>;
}

/**
 * True when the target's live version already is the entry's data: it was restored from it
 * (origin), or it is the very version that was backed up (same chunk, cid, rows and commit time).
 */
export function holdsEntry(k: ChunkMeta, v: TableVersion, srcChunkId: string, e: ManifestEntry): boolean {
  if (v.origin && v.origin.chunkId === srcChunkId && v.origin.cid === e.cid) return true;
  return k.chunkId === srcChunkId && v.cid === e.cid && v.rows === e.rows && v.updateTime === e.updateTime && v.files.length === e.files.length;
}

export function planRestore(c: Cluster, m: SourceManifest, targetDb: string, pairs: TablePair[], pattern: PartitionPattern, o: { force?: boolean; keepExtra?: boolean }): RestorePlan {
  const def = loadDatabase(c, targetDb);
  const fits = pathChecker(def.scheme);
  const chunks = loadChunks(c, targetDb);
  const byPath = new Map(chunks.map((k) => [k.path, k]));
  const targetIds = new Set(chunks.map((k) => k.chunkId));
  const dbName = dbNameOf(m.dbPath);
  const plan: RestorePlan = { jobs: [], skipped: [], extras: [], perTable: new Map() };
  for (const pair of pairs) {
    const inPoint = new Set<string>();
    let matched = 0;
    for (let i = 0; i < m.partitions.length; i++) {
      const p = m.partitions.at(i);
      const e = p.tables[pair.src];
      if (!e) continue;
      inPoint.add(p.path);
      if (!pattern.matches(dbName, p.path)) continue;
      fits(p.path);
      matched++;
      const k = byPath.get(p.path);
      const v = k?.tables[pair.dst];
      if (!o.force && k && v && holdsEntry(k, v, p.chunkId, e)) plan.skipped.push({ path: p.path, table: pair.dst });
      else {
        const keepId = !k && targetDb === m.dbPath && !targetIds.has(p.chunkId);
        plan.jobs.push(new LineJob(p.path, pair, p.chunkId, m.partitions, i, { cid: e.cid, bytes: e.bytes, files: e.files.length }, keepId ? p.chunkId : undefined));
      }
    }
    plan.perTable.set(pair.dst, matched);
    if (pattern.all && !o.keepExtra) for (const k of chunks) if (k.tables[pair.dst] && !inPoint.has(k.path)) plan.extras.push({ path: k.path, table: pair.dst });
  }
  // Partition by partition (stable, so tables keep their order within one): a partition's tables
  // are copied together and so commit in one group, which writes its chunk file once. Table by
  // table, the many shape's second table landed in later groups, which replaced 2,000 chunk files
  // again (a rename over an existing file: ~2 ms here) and read each chunk directory again in GC.
  const order = (j: CopyJob) => (j as LineJob).index;
  plan.jobs.sort((a, b) => order(a) - order(b));
  return plan;
}
