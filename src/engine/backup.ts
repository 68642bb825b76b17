import path from 'node:path';
import { notFound, usage } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { applyDefaults, diskOf, fsTypeOf, mayClone, type CopyPipeline, type FilledPipelineOptions, type UsedMethod } from '../io/index.js';
import { Cluster, loadDatabase, loadSummaries, parsePartitionPath, pinSummaries, tableOf, warmChunks, type ChunkMeta, type DatabaseDef } from '../store/index.js';
import { needsFiles, planBackup, unchangedSince, type BackupPlan } from './backup-plan.js';
import { readPrevious, writtenPartitions } from './carried-point.js';
import { defaultHolder, newPipeline, withPipeline, workersFor, type OperationOptions } from './options.js';
import type { Journal } from '../repo/journal.js';
import { newPointId, type ManifestToWrite } from '../repo/manifest.js';
import { Repository, type RepoFormat } from '../repo/repository.js';
import { once } from '../repo/settings.js';
import type { BlobCodecSpec } from '../repo/codec/index.js';
import { isS3Url } from '../repo/backend/index.js';
import { copyIntoPacks, type PackSizing } from './backup-packs.js';
import { copyIntoMirror, type MirrorInput } from './backup-mirror.js';
import { PACK_TASK } from '../repo/packed.js';

export interface BackupOptions extends OperationOptions {
  home: string;
  backupDir: string;
  dbPath: string;
  /** Copy again even what the repository already holds (repairs a damaged backup). */
  force?: boolean;
  /** DolphinDB's snapshot=false: keep partitions and tables dropped in the source. */
  keepDropped?: boolean;
  tables?: string[];
  /** Paths relative to the database, e.g. /Key3/tp/20120101. */
  partitions?: string[];
  /** Make no new restore point when nothing changed since the latest one (what schedules use). */
  skipIfUnchanged?: boolean;
  /**
   * The format of a repository this backup creates (default NEW_REPO_FORMAT, or 2 when a password
   * makes a new directory encrypted); an existing repository keeps its own.
   */
  repoFormat?: RepoFormat;
  /** zstd level of the blobs this run writes (v2); a new directory's config records it. Default: the config's. */
  compression?: BlobCodecSpec['compression'];
  /** Advanced (the pack sweep): entries below `shareBelow` bytes share packs up to `target` bytes. */
  packSizing?: PackSizing;
}

export interface BackupResult {
  pointId: string;
  dbPath: string;
  /** DolphinDB's return value: partitions (per table) backed up, i.e. copied. */
  partitions: number;
  skipped: number;
  dropped: number;
  bytesCopied: number;
  /** What the copied data takes in the repository (compressed, encrypted; v1: bytesCopied). */
  bytesStored: number;
  /** v2: files stored as references to an identical file this run wrote (foreign blobs), and their plain bytes (in bytesCopied, not in bytesStored). */
  filesDeduplicated: number;
  bytesDeduplicated: number;
  seconds: number;
  mbPerSec: number;
  copyMethod: UsedMethod | 'none';
  /** True when a copy is a clone sharing extents with the source (not physically independent). */
  sharesExtents: boolean;
  /** Present (true) only when --skip-if-unchanged found nothing new: pointId is then the latest existing point. */
  unchanged?: true;
}

/** Refuses a backup directory inside a volume: GC there would delete it and it shares the disk's fate. */
function checkBackupDir(c: Cluster, backupDir: string): string {
  if (isS3Url(backupDir)) return backupDir;
  const dir = path.resolve(backupDir);
  for (const v of c.volumes) {
    const rel = path.relative(path.resolve(v.path), dir);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) throw usage(`backup directory ${dir} is inside volume ${v.path}; choose a directory outside the cluster's volumes`);
  }
  return dir;
}

/**
 * backup / backupDB / backupTable. Pins a consistent snapshot without blocking writers, copies
 * only the (chunkId, table, cid) the repository lacks, journals each finished copy, and commits a
 * new immutable restore point. `shared`: the pipeline of a backup of every database
 * (backup-all.ts), which attaches it, reports its progress and closes it.
 */
export async function backup(o: BackupOptions, shared?: CopyPipeline): Promise<BackupResult> {
  const elapsed = stopwatch();
  const copying = applyDefaults('copy', o);
  const c = new Cluster(o.home);
  // Bad input fails before anything is created; the point itself describes the pinned snapshot.
  const early = loadDatabase(c, o.dbPath);
  const tablesOf = (d: DatabaseDef) => (o.tables?.length ? o.tables.map((t) => tableOf(d, t).name) : Object.keys(d.tables));
  tablesOf(early);
  const wanted = o.partitions?.length ? new Set(o.partitions.map((p) => parsePartitionPath(early.scheme, p))) : undefined;
  if (wanted) {
    const existing = new Set(loadSummaries(c, o.dbPath).map((k) => k.path));
    for (const p of wanted) if (!existing.has(p)) throw notFound(`partition ${p} does not exist in ${o.dbPath}`);
  }
  if (o.repoFormat === 1 && o.compression) throw usage('--compression needs a v2 repository (--repo-format 2): v1 stores files as they are');
  const access = { ...(o.password ? { password: once(o.password) } : {}), ...(o.compression ? { compression: o.compression } : {}) };
  const dir = checkBackupDir(c, o.backupDir);
  const deriving = Repository.deriveAhead(dir, true, o.repoFormat, access);
  // The key derivation (scrypt, ~0.4 s of a core) runs on libuv's pool; meanwhile the copy workers
  // boot (0.4-0.7 s at load average 10 here), which waited for it before. (The chunk files to read
  // ahead are known only from the previous point, which needs the key: pinAndPlan warms them.)
  // Deriving a key means a v2 repository: its workers will run pack tasks. A backup of every
  // database (`shared`) uses that operation's pipeline and leaves closing it to its owner.
  const pool: EarlyPool = { copying, started: shared ?? (deriving ? newPipeline(copying, true, [PACK_TASK]) : undefined) };
  try {
    await deriving;
    const repo = Repository.open(dir, o.dbPath, true, o.repoFormat, access);
    return await backupLocked({ o, c, repo, elapsed, tablesOf, wanted, pool });
  } finally {
    if (pool.started !== shared) await pool.started?.close();
  }
}

/** The copy pool, booted before the plan when the backup will copy (its workers start while the catalog is read); closed by backup(). */
interface EarlyPool {
  copying: FilledPipelineOptions;
  started: CopyPipeline | undefined;
}

interface LockedInput {
  o: BackupOptions;
  c: Cluster;
  repo: Repository;
  elapsed: () => number;
  tablesOf: (d: DatabaseDef) => string[];
  wanted: Set<string> | undefined;
  pool: EarlyPool;
}

/** The backup under the repository's lock: pin, plan, copy, commit the point. */
async function backupLocked({ o, c, repo, elapsed, tablesOf, wanted, pool }: LockedInput): Promise<BackupResult> {
  const lock = repo.lock(o.holder ?? defaultHolder());
  let release: (() => void) | undefined;
  try {
    const pinned = await pinAndPlan(c, repo, o, wanted, tablesOf, pool);
    release = pinned.release;
    const { def, tables, plan, createdAt } = pinned;
    o.observer?.plan?.(tables.map((t) => ({ dbName: o.dbPath, tableName: t, total: plan.perTable.get(t)! })));
    for (const t of plan.skippedTables) o.observer?.partitionDone?.(t);
    if (o.skipIfUnchanged && unchangedSince(plan)) return unchangedResult(plan, o.dbPath, elapsed());

    const copied = await copyEntries({ c, repo, def, plan, dbPath: o.dbPath, copying: pool.copying, observer: o.observer, packSizing: o.packSizing, started: pool.started });
    const manifest: ManifestToWrite = {
      format: 2,
      pointId: newPointId(),
      ...(plan.prev ? { parent: plan.prev.pointId } : {}),
      dbPath: o.dbPath,
      engine: def.engine,
      scheme: def.scheme,
      tables: plan.manifestTables,
      created: createdAt,
      committed: new Date().toISOString(),
      ...writtenPartitions(plan.parts.values(), repo.packs ? { previous: plan.prev?.totals, of: (chunkId, t, cid, bytes) => repo.storedBytes(chunkId, t, { cid, bytes }) } : undefined),
      stats: { copiedEntries: plan.toCopy.length, skippedEntries: plan.skippedTables.length, droppedEntries: plan.dropped, copiedBytes: copied.bytes },
    };
    lock.confirm?.();
    repo.commitPoint(manifest);
    copied.journal?.remove();
    repo.removeJournals(plan.oldJournals);
    const seconds = elapsed();
    return {
      pointId: manifest.pointId,
      dbPath: o.dbPath,
      partitions: plan.toCopy.length,
      skipped: plan.skippedTables.length,
      dropped: plan.dropped,
      bytesCopied: copied.bytes,
      bytesStored: copied.stored ?? copied.bytes,
      filesDeduplicated: copied.dedupFiles ?? 0,
      bytesDeduplicated: copied.dedupBytes ?? 0,
      seconds,
      mbPerSec: mbPerSec(copied.bytes, seconds),
      copyMethod: copied.methods.size ? [...copied.methods][0]! : 'none',
      sharesExtents: copied.methods.has('reflink') || (copied.methods.has('copy-file-range') && mayClone(fsTypeOf(repo.dir))),
    };
  } finally {
    release?.();
    lock.release();
  }
}

/**
 * Reads the previous point, pins the snapshot (the file lists of only the chunks the point lacks)
 * and plans. The pin's 100,000 summaries end here: what follows needs only the copies' chunks.
 * A chunk the point lacks is a copy to come, so the workers boot while its file is read (a
 * no-change backup starts none): on the many shape they took 0.3-0.5 s to start after the plan.
 */
async function pinAndPlan(c: Cluster, repo: Repository, o: BackupOptions, wanted: Set<string> | undefined, tablesOf: (d: DatabaseDef) => string[], pool: EarlyPool) {
  const previous = readPrevious(repo);
  const withFiles = needsFiles(previous, { ...(o.tables?.length ? { tables: o.tables } : {}), ...(wanted ? { wanted } : {}), force: !!o.force });
  const warm = warmChunks(c, o.dbPath, withFiles);
  if (warm.chunks > 0) pool.started ??= newPipeline(pool.copying, workersFor(pool.copying.workers, warm.bytes), repo.packs ? [PACK_TASK] : []);
  await warm.done;
  const snapshot = pinSummaries(c, o.dbPath, withFiles);
  try {
    const createdAt = new Date().toISOString();
    const tables = tablesOf(snapshot.def);
    const plan = planBackup({ repo, previous, snapshot, tables, ...(wanted ? { wanted } : {}), force: !!o.force, keepDropped: !!o.keepDropped });
    return { def: snapshot.def, tables, plan, createdAt, release: snapshot.release };
  } catch (err) {
    snapshot.release();
    throw err;
  }
}

function unchangedResult(plan: BackupPlan, dbPath: string, seconds: number): BackupResult {
  return { pointId: plan.prev!.pointId, dbPath, partitions: 0, skipped: plan.skippedTables.length, dropped: 0, bytesCopied: 0, bytesStored: 0, filesDeduplicated: 0, bytesDeduplicated: 0, seconds, mbPerSec: 0, copyMethod: 'none', sharesExtents: false, unchanged: true };
}

interface CopyInput extends MirrorInput {
  packSizing?: PackSizing | undefined;
}

/**
 * Executes the plan's copies: into packs (v2, backup-packs.ts) or into the mirror (v1,
 * backup-mirror.ts); either way a killed run's rerun never copies again what it made durable.
 */
async function copyEntries(x: CopyInput): Promise<{ bytes: number; stored?: number; dedupFiles?: number; dedupBytes?: number; methods: Set<UsedMethod>; journal?: Journal }> {
  const { c, repo, plan } = x;
  if (repo.packs) {
    const total = plan.toCopy.reduce((a, j) => a + j.chunk.tables[j.table]!.bytes, 0);
    if (!plan.toCopy.length) return { bytes: 0, methods: new Set() };
    const input = { store: repo.packs, def: x.def, dbPath: x.dbPath, plan, chunkDir: (k: ChunkMeta) => c.chunkDir(k, x.dbPath), disks: new Map(c.volumes.map((v) => [v.path, v.disk])), dstDisk: repo.ioQueue ?? diskOf(repo.dir), inFlight: x.copying.inFlight, workers: x.copying.workers, observer: x.observer, ...(x.packSizing ? { sizing: x.packSizing } : {}) };
    return withPipeline(x.copying, x.observer, total, (pipe) => copyIntoPacks(input, pipe), x.started);
  }
  return copyIntoMirror(x);
}
