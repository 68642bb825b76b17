import { CopyPipeline, type CopyMethod } from '../io/index.js';

/**
 * Defaults from the committed sweep (bench-results/2026-11-27-sweep.md, 2 vCPU, one virtio disk):
 * 4 workers x 4 per disk beat 2 x 2 by ~10% for backup and restore. Copies wait on fdatasync far more
 * than on the CPU, so more tasks in flight than cores keeps the device busy.
 */
export const DEFAULT_WORKERS = 4;
export const DEFAULT_DISK_CONCURRENCY = 4;

/** Tuning shared by every copying operation (backup, restore, check, migrate). */
export interface PipelineOptions {
  /** Worker threads (piscina). */
  workers?: number;
  /** Tasks in flight per disk, like DolphinDB's diskIOConcurrencyLevel. */
  diskConcurrency?: number;
  /** Shared rate limit in bytes per second; 0 = unlimited. */
  maxRate?: number;
  copyMethod?: CopyMethod;
}

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
}

export function makePipeline(o: PipelineOptions): CopyPipeline {
  return new CopyPipeline({
    workers: o.workers ?? DEFAULT_WORKERS,
    diskConcurrency: o.diskConcurrency ?? DEFAULT_DISK_CONCURRENCY,
    maxRateBytesPerSec: o.maxRate ?? 0,
    method: o.copyMethod ?? 'stream',
  });
}

export const defaultHolder = () => `pid ${process.pid}`;

/** Samples the pipeline's byte counter for progress while fn runs. */
export async function withProgress<T>(pipeline: CopyPipeline, total: number, observer: Observer | undefined, fn: () => Promise<T>): Promise<T> {
  const base = pipeline.bytesDone;
  const tick = () => observer?.bytes?.(pipeline.bytesDone - base, total);
  const timer = setInterval(tick, 200);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    tick();
  }
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
