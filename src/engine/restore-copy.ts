import path from 'node:path';
import { CvError, corrupt } from '../common/errors.js';
import type { CopyPipeline } from '../io/index.js';
import { BATCH_LIMITS, batchBy } from './batches.js';
import type { ManifestEntry } from '../repo/manifest.js';
import { stageVersion, versionProblem, type ChunkMeta, type Cluster, type DatabaseDef, type Stage, type StagedCommit } from '../store/index.js';
import { readEntriesFromPacks } from './restore-packs.js';
import type { CopyJob, SourcePoint } from './restore-plan.js';

/** What copying a batch needs: the source point, the target and the shared pipeline. */
export interface CopyContext {
  c: Cluster;
  targetDb: string;
  src: SourcePoint;
  pipeline: CopyPipeline;
  /** The source repository's disk queue. */
  srcDisk: string;
  def: DatabaseDef;
}

/** A job with where it goes: its target chunk and that chunk's disk. */
export interface PlacedJob {
  job: CopyJob;
  chunk: ChunkMeta;
  dstDisk: string;
}

/** Jobs cut into batches (batches.ts), one disk each: a partition's size is its entry's bytes and files. */
export function batchJobs(jobs: PlacedJob[], limits = BATCH_LIMITS): PlacedJob[][] {
  return batchBy(jobs, (p) => ({ key: p.dstDisk, ...p.job.size }), limits);
}

/**
 * Copies a batch of table partitions (one disk) into staging directories of their target chunks,
 * as one pool task, without an fdatasync per file: the group commit (restore-group.ts) makes the
 * stages durable and publishes them. Any problem fails the whole batch and removes its stages.
 */
export async function copyBatch(x: CopyContext, batch: PlacedJob[]): Promise<StagedCommit[]> {
  const entries = batch.map((p) => p.job.entry);
  const repo = x.src.repo;
  const srcFiles = repo.packs ? [] : batch.map((p, i) => {
    const files = repo.entryFilesIfPresent(p.job.srcChunkId, p.job.pair.src, entries[i]!);
    if (!files) throw corrupt(`the backup lacks the data of ${p.job.path} table ${p.job.pair.src} (cid ${entries[i]!.cid})`);
    return files;
  });
  const stages: Stage[] = [];
  try {
    // From packs, the worker makes each stage's directory; copied files (v1) need it here.
    for (const p of batch) stages.push(stageVersion(x.c, x.targetDb, p.chunk, p.job.pair.dst, x.def, repo.packs !== undefined));
    const heads = repo.packs
      ? await readEntriesFromPacks(repo.packs, x.pipeline, batch.map((p, i) => ({ chunkId: p.job.srcChunkId, table: p.job.pair.src, e: entries[i]!, dir: stages[i]!.dir })), { src: x.srcDisk, dst: batch[0]!.dstDisk }, false)
      : await copyMirrored(x, batch, entries, srcFiles, stages);
    return batch.map((p, i) => staged(x, p.job, entries[i]!, stages[i]!, heads[i]!));
  } catch (err) {
    for (const s of stages) s.abort();
    throw err;
  }
}

/** A v1 repository's files of every entry of the batch, copied as files; results split back per entry. */
async function copyMirrored(x: CopyContext, batch: PlacedJob[], entries: ManifestEntry[], srcFiles: string[][], stages: Stage[]) {
  const files = entries.flatMap((e, i) => e.files.map((f, j) => ({ src: srcFiles[i]![j]!, dst: path.join(stages[i]!.dir, f.name), expectedSize: f.size, expectedXxh3: f.xxh3 })));
  const results = await x.pipeline.copyFiles(files, x.srcDisk, batch[0]!.dstDisk, { durable: false }).catch((err: unknown) => {
    // The manifest lists the file, so a file the repository lacks is damage, not bad input.
    throw err instanceof CvError && err.code === 'NOT_FOUND' ? corrupt(`the backup lacks a data file of ${batch.map((p) => `${p.job.path} table ${p.job.pair.src}`).join(', ')}: ${err.message}`) : err;
  });
  let at = 0;
  return entries.map((e) => results.slice(at, (at += e.files.length)));
}

/** The staged version of one job, once its copied files agree with what the restore point says of them. */
function staged(x: CopyContext, job: CopyJob, entry: ManifestEntry, stage: Stage, heads: { size: number; head?: Uint8Array }[]): StagedCommit {
  const m = x.src.manifest;
  const problem = versionProblem(m.engine, m.tables[job.pair.src]!.schema, entry.rows, heads.map((r, i) => ({ name: entry.files[i]!.name, size: r.size, head: r.head ?? new Uint8Array(0) })));
  if (problem) throw corrupt(`restore point ${m.pointId} does not describe its data: ${job.path} table ${job.pair.src}: ${problem}`);
  return { stage, staged: { rows: entry.rows, files: entry.files.map((f) => ({ name: f.name, size: f.size })), origin: { chunkId: job.srcChunkId, cid: entry.cid } } };
}
