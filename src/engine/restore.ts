import { CvError } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { diskOf, restoreDefaults, type CopyPipeline, type FilledPipelineOptions } from '../io/index.js';
import { Cluster, dbNameOf, dropPartition, loadDatabase, placeChunks } from '../store/index.js';
import { GroupCommitter } from './restore-group.js';
import { COMMIT_GROUP, type GroupLimits } from './group-flush.js';
import { defaultHolder, kickingWriteback, runLimited, withPipeline, type Observer, type OperationOptions } from './options.js';
import { parsePattern, type PartitionPattern } from './pattern.js';
import { batchJobs, copyBatch, type CopyContext, type PlacedJob } from './restore-copy.js';
import { checkSelection, lockTarget, openPoint, openTargetCluster, planRestore, prepareTarget, type CopyJob, type SourcePoint, type TablePair } from './restore-plan.js';

export interface RestoreTarget {
  /** The target cluster home; restore-db/-table/migrate lay out a home that does not exist yet. */
  home: string;
  /** Restore point id or ISO time (the latest point committed at or before it); default: the latest. */
  asOf?: string;
}

export interface RestoreOptions extends OperationOptions, RestoreTarget {
  backupDir: string;
  dbPath: string;
  table: string;
  /** DolphinDB partition pattern over /<dbName><path>: % any run, ? one character. */
  pattern: string;
  /** Copy even partitions whose target already holds the restore point's data. */
  force?: boolean;
  /** Restore into this existing table (same schema) instead of `table`. */
  outputTable?: string;
  /** DolphinDB's snapshot=false: with pattern %, keep target partitions the restore point lacks. */
  keepExtra?: boolean;
  /** Target database (default: dbPath). */
  newDbPath?: string;
}

export interface RestoreRow {
  dbName: string;
  tableName: string;
}

export interface RestoreResult {
  pointId: string;
  dbPath: string;
  targetDbPath: string;
  /** DolphinDB restoreDB/restoreTable's return value: the target tables. */
  tables: RestoreRow[];
  /** DolphinDB restore's return value: restored partitions as /<targetDbName><path>, sorted. */
  restoredPaths: string[];
  /** Table partitions copied and committed. */
  partitions: number;
  /** Table partitions whose target already held the restore point's data. */
  skipped: number;
  /** Target table partitions deleted because the restore point lacks them (pattern % without keepExtra). */
  deleted: number;
  bytes: number;
  seconds: number;
  /** Bytes copied per second including every fdatasync and commit, 10^6 bytes. */
  mbPerSec: number;
}

/** What runJobs needs beyond the plan: the source repository, the target and the shared pipeline. */
interface RunContext {
  c: Cluster;
  targetDb: string;
  src: SourcePoint;
  pipeline: CopyPipeline;
  observer?: Observer;
  inFlight: number;
  group: GroupLimits;
}

interface Failure {
  job: CopyJob;
  err: unknown;
}

/**
 * Runs every copy job; copied partitions are committed in groups. A failed partition (or a failed
 * group commit) leaves the target's previous versions live and does not stop the others; the
 * failures are returned for the caller to report.
 */
export async function runJobs(x: RunContext, jobs: CopyJob[]): Promise<{ done: CopyJob[]; failures: Failure[]; bytes: number }> {
  const done: CopyJob[] = [];
  const failures: Failure[] = [];
  let bytes = 0;
  if (!jobs.length) return { done, failures, bytes };
  // Every chunk the jobs need, found or created under one database lock rather than one lock each.
  // Missing chunks are placed, not written: each group commit creates them with their first version,
  // once their directories are durable (the copies do not wait for that).
  const { chunks, durable } = placeChunks(x.c, x.targetDb, jobs.map((j) => ({ path: j.path, ...(j.newChunkId ? { chunkId: j.newChunkId } : {}) })));
  const cx: CopyContext = { c: x.c, targetDb: x.targetDb, src: x.src, pipeline: x.pipeline, srcDisk: x.src.repo.ioQueue ?? diskOf(x.src.repo.dir), def: loadDatabase(x.c, x.targetDb) };
  const dstDisks = new Map(x.c.volumes.map((v) => [v.path, v.disk]));
  const placed = jobs.map((job) => {
    const chunk = chunks.get(job.path)!;
    return { job, chunk, dstDisk: dstDisks.get(chunk.volume) ?? diskOf(chunk.volume) };
  });
  const group = new GroupCommitter<CopyJob>(x.c, x.targetDb, x.group, durable, (settled, err) => {
    if (err !== undefined) return void failures.push(...settled.map((job) => ({ job, err })));
    for (const job of settled) {
      done.push(job);
      bytes += job.size.bytes;
      x.observer?.partitionDone?.(job.pair.dst);
    }
  });
  const cancelled = () => new CvError('CANCELLED', 'restore cancelled');
  const copy = async (batch: PlacedJob[]) => {
    if (x.pipeline.cancelled) throw cancelled();
    (await copyBatch(cx, batch)).forEach((s, i) => group.add(batch[i]!.job, s, batch[i]!.job.size.bytes));
  };
  const warming = x.src.repo.warmEntries(jobs.map((j) => ({ chunkId: j.srcChunkId, table: j.pair.src, cid: j.size.cid })));
  try {
    await kickingWriteback(x.c.volumes.map((v) => v.path), x.pipeline, () =>
      // A throttled restore is bound by its rate, not the main thread: one partition per task, so
      // its groups commit as it goes (a batch joins its group only once all of it is copied).
      runLimited(batchJobs(placed, x.pipeline.rate > 0 ? { bytes: 0, files: 0 } : undefined), x.inFlight, async (batch) => {
        try {
          await copy(batch);
        } catch (err) {
          if (batch.length === 1) return void failures.push({ job: batch[0]!.job, err });
          // Cancelled meanwhile: the batch's error may be one partition's damage, not every partition's.
          if (x.pipeline.cancelled) return void failures.push(...batch.map((p) => ({ job: p.job, err: cancelled() })));
          // A failed batch is copied again partition by partition, so only a bad partition fails.
          for (const p of batch) await copy([p]).catch((e: unknown) => failures.push({ job: p.job, err: e }));
        }
      }),
    );
  } finally {
    await warming;
  }
  // What was copied is committed even after a failure or a cancel: a rerun then need not copy it again.
  await group.flush();
  return { done, failures, bytes };
}

/** One line naming the failed partitions, with the failing code (CANCELLED only if nothing else failed). */
export function failureError(targetDb: string, failures: Failure[], restored: number): CvError {
  const codeOf = (e: unknown) => (e instanceof CvError ? e.code : 'IO');
  const first = failures.find((f) => codeOf(f.err) !== 'CANCELLED') ?? failures[0]!;
  const names = failures.map((f) => `${f.job.path} (${f.job.pair.dst})`);
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
  const why = (first.err instanceof Error ? first.err.message : String(first.err)).split('\n')[0];
  return new CvError(codeOf(first.err), `restore into ${targetDb} failed for ${failures.length} partition(s): ${shown}: ${why}; ${restored} other partition(s) were restored, rerun to resume`);
}

export interface RunSpec {
  c: Cluster;
  src: SourcePoint;
  targetDb: string;
  pairs: TablePair[];
  pattern: PartitionPattern;
  create: { db: boolean; tables: boolean };
  force?: boolean;
  keepExtra?: boolean;
}

/**
 * The restore every command shares: lock the target, prepare it, plan by metadata, copy and commit
 * each partition, then (only if every partition succeeded) delete the target's extra partitions.
 * `shared` is migrate's pipeline: migrate has already planned, attached it and samples its progress.
 */
export async function runRestore(spec: RunSpec, o: OperationOptions, copying: FilledPipelineOptions, shared?: CopyPipeline): Promise<RestoreResult> {
  const elapsed = stopwatch();
  const { c, src, targetDb, pairs } = spec;
  const m = src.manifest;
  const lock = lockTarget(c, targetDb, o.holder ?? defaultHolder());
  try {
    checkSelection(m, pairs, spec.pattern);
    prepareTarget(c, m, targetDb, pairs, spec.create);
    const plan = planRestore(c, m, targetDb, pairs, spec.pattern, spec);
    if (!shared) o.observer?.plan?.(pairs.map((p) => ({ dbName: targetDb, tableName: p.dst, total: plan.perTable.get(p.dst) ?? 0 })));
    for (const s of plan.skipped) o.observer?.partitionDone?.(s.table);
    const run = (pipeline: CopyPipeline) => runJobs({ c, targetDb, src, pipeline, inFlight: copying.inFlight, group: COMMIT_GROUP, ...(o.observer ? { observer: o.observer } : {}) }, plan.jobs);
    const total = plan.jobs.reduce((a, j) => a + j.size.bytes, 0);
    const { done, failures, bytes } = shared ? await run(shared) : await withPipeline(copying, o.observer, total, run);
    if (failures.length) throw failureError(targetDb, failures, done.length);
    for (const e of plan.extras) dropPartition(c, targetDb, e.path, e.table);
    const seconds = elapsed();
    const name = dbNameOf(targetDb);
    return {
      pointId: m.pointId,
      dbPath: m.dbPath,
      targetDbPath: targetDb,
      tables: pairs.map((p) => ({ dbName: targetDb, tableName: p.dst })),
      restoredPaths: [...new Set(done.map((j) => `/${name}${j.path}`))].sort(),
      partitions: done.length,
      skipped: plan.skipped.length,
      deleted: plan.extras.length,
      bytes,
      seconds,
      mbPerSec: mbPerSec(bytes, seconds),
    };
  } finally {
    lock.release();
  }
}

/** DolphinDB restore: the partitions of one table matching a pattern; returns the restored paths. */
export async function restore(o: RestoreOptions): Promise<RestoreResult> {
  const copying = restoreDefaults(o);
  const pattern = parsePattern(o.pattern);
  const src = openPoint(o.backupDir, o.dbPath, o.asOf, o.password);
  const targetDb = o.newDbPath ?? o.dbPath;
  dbNameOf(targetDb);
  const pair = { src: o.table, dst: o.outputTable ?? o.table };
  checkSelection(src.manifest, [pair], pattern); // bad input changes nothing, not even a fresh home
  const c = openTargetCluster(o.home, !o.outputTable);
  // outputTable must already exist (DolphinDB); otherwise the database and table are created if missing.
  const create = o.outputTable ? { db: false, tables: false } : { db: true, tables: true };
  return runRestore({ c, src, targetDb, pairs: [pair], pattern, create, force: !!o.force, keepExtra: !!o.keepExtra }, o, copying);
}

export interface RestoreDbOptions extends OperationOptions, RestoreTarget {
  backupDir: string;
  dbPath: string;
  newDbPath?: string;
}

/** DolphinDB restoreDB: every table of the restore point, creating the database and tables if missing. */
export async function restoreDb(o: RestoreDbOptions): Promise<RestoreResult> {
  const copying = restoreDefaults(o);
  const src = openPoint(o.backupDir, o.dbPath, o.asOf, o.password);
  const targetDb = o.newDbPath ?? o.dbPath;
  dbNameOf(targetDb);
  const c = openTargetCluster(o.home, true);
  const pairs = Object.keys(src.manifest.tables).sort().map((t) => ({ src: t, dst: t }));
  return runRestore({ c, src, targetDb, pairs, pattern: parsePattern('%'), create: { db: true, tables: true } }, o, copying);
}

export interface RestoreTableOptions extends RestoreDbOptions {
  table: string;
  newTable?: string;
}

/** DolphinDB restoreTable: one table, optionally into another database and/or under another name. */
export async function restoreTable(o: RestoreTableOptions): Promise<RestoreResult> {
  const copying = restoreDefaults(o);
  const src = openPoint(o.backupDir, o.dbPath, o.asOf, o.password);
  const targetDb = o.newDbPath ?? o.dbPath;
  dbNameOf(targetDb);
  const pairs = [{ src: o.table, dst: o.newTable ?? o.table }];
  checkSelection(src.manifest, pairs, parsePattern('%')); // a table the point lacks creates nothing
  const c = openTargetCluster(o.home, true);
  return runRestore({ c, src, targetDb, pairs, pattern: parsePattern('%'), create: { db: true, tables: true } }, o, copying);
}
