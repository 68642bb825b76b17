import { CopyPipeline, PIPELINE_DEFAULTS, type FilledPipelineOptions, type PipelineOptions } from '../io/index.js';
import { WritebackKicker } from '../common/group-sync.js';
import type { PasswordSource } from '../repo/config.js';

/** What a caller (the CLI, a background job) sees while an operation runs. */
export interface Observer {
  /** The pipeline, once made: a job runner uses it for live throttle and cancel. */
  attach?(pipeline: CopyPipeline): void;
  /** Units of work per table (partitions to process), known once planned. */
  plan?(tables: { dbName: string; tableName: string; total: number }[]): void;
  /** One partition of one table finished (copied or skipped). */
  partitionDone?(tableName: string): void;
  bytes?(done: number, total: number): void;
}

export interface OperationOptions extends PipelineOptions {
  observer?: Observer;
  /** Names the lock holder and job in errors, e.g. "job 7f3a" (default: this process). */
  holder?: string;
  /** The repository password, read only when the backup directory is encrypted (or a backup initialises one). */
  password?: PasswordSource;
}

export const defaultHolder = () => `pid ${process.pid}`;

/** The S3 requests this process retried (undefined: it used no S3 repository), for a job's log. */
export { s3Retries } from '../repo/backend/index.js';

/**
 * The one way an operation runs the pool: made from resolved options (never re-derived here),
 * handed to the observer (a job's live throttle and cancel), its byte counter sampled for
 * progress while fn runs, and closed however fn ends. `totalBytes` may be a function: an operation
 * over several databases learns each one's total as it plans.
 */
export async function withPipeline<T>(o: FilledPipelineOptions, observer: Observer | undefined, totalBytes: number | (() => number), fn: (pipeline: CopyPipeline) => Promise<T>, started?: CopyPipeline): Promise<T> {
  // With the total known, no more workers than it needs: piscina starts a thread per task posted
  // while the first is still booting, so a tiny check ran two (~0.1 s of a core each).
  const pipeline = started ?? newPipeline(typeof totalBytes === 'number' ? { ...o, workers: workersFor(o.workers, totalBytes) } : o);
  try {
    observer?.attach?.(pipeline);
    const tick = () => observer?.bytes?.(pipeline.bytesDone, typeof totalBytes === 'number' ? totalBytes : totalBytes());
    const timer = setInterval(tick, 200);
    try {
      return await fn(pipeline);
    } finally {
      clearInterval(timer);
      tick();
    }
  } finally {
    // A pipeline started by the caller is closed by the caller.
    if (!started) await pipeline.close();
  }
}

/** The pool from resolved options; `eager` boots workers now (true: all, or how many), importing the `preload` module tasks (see CopyPipelineOptions). */
export function newPipeline(o: FilledPipelineOptions, eager: boolean | number = false, preload: string[] = []): CopyPipeline {
  return new CopyPipeline({ workers: o.workers, diskConcurrency: o.diskConcurrency, createConcurrency: o.createConcurrency, netConcurrency: o.netConcurrency, maxRateBytesPerSec: o.maxRate, method: o.copyMethod, eager, preload, workerNice: o.workerNice, postAhead: o.postAhead });
}

/**
 * How many of `workers` `bytes` of copying or hashing needs: one per bootBytesPerWorker, at least
 * one; all of them when the size is not known. A backup boots that many up front, and a pool with a
 * known total runs no more, so a small job starts one thread, not four (~0.1 s of a core each on a
 * 2-core machine whose main thread needs it too).
 */
export function workersFor(workers: number, bytes: number | undefined): number {
  return bytes === undefined ? workers : Math.min(workers, Math.max(1, Math.ceil(bytes / PIPELINE_DEFAULTS.bootBytesPerWorker)));
}

/** Runs tasks with at most `limit` in flight; the first failure stops new starts and is rethrown. */
export async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure;
}

/**
 * Runs `copy` while kicking the writeback of `dirs`' disks every writebackKickBytes the pipeline
 * copies (common/group-sync.ts WritebackKicker): a backup's file or pack stays dirty until its
 * fdatasync at its end, and a restore's until its group commit, so without it the target disk
 * idled while the first files were read and then flushed all at once. A hint only: durability
 * still comes from each file's or pack's fdatasync, or the group commit.
 */
export async function kickingWriteback<T>(dirs: string[], pipe: CopyPipeline, copy: () => Promise<T>): Promise<T> {
  const kicker = new WritebackKicker(dirs, () => pipe.bytesDone, PIPELINE_DEFAULTS.writebackKickBytes, PIPELINE_DEFAULTS.writebackPollMs);
  try {
    return await copy();
  } finally {
    await kicker.stop();
  }
}
