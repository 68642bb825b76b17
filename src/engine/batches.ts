import { PIPELINE_DEFAULTS } from '../io/index.js';

/** What batching needs to know of an item: the queue it goes to, and its bytes and files. */
export interface Measured {
  key: string;
  bytes: number;
  files: number;
}

/** Batch limits: the pipeline's batchBytes and restoreBatchFiles unless given; zeros make one item per batch. */
export const BATCH_LIMITS: { bytes: number; files: number } = { bytes: PIPELINE_DEFAULTS.batchBytes, files: PIPELINE_DEFAULTS.restoreBatchFiles };

/**
 * Items cut into batches that each go to the pool as one task: consecutive items (plan order) of
 * one key (a disk), up to `limits.bytes` and `limits.files`. A task costs the main thread more
 * than copying one small partition's files: one task per partition made the main thread the many
 * shape's bottleneck, in restore and in the v1 backup (docs/PERFORMANCE.md). An item above the
 * limits is a batch of its own.
 */
export function batchBy<T>(items: T[], measure: (t: T) => Measured, limits: { bytes: number; files: number } = BATCH_LIMITS): T[][] {
  const out: T[][] = [];
  const open = new Map<string, { items: T[]; bytes: number; files: number }>();
  for (const t of items) {
    const m = measure(t);
    let b = open.get(m.key);
    if (b && (b.bytes + m.bytes > limits.bytes || b.files + m.files > limits.files)) {
      out.push(b.items);
      b = undefined;
    }
    if (!b) open.set(m.key, (b = { items: [], bytes: 0, files: 0 }));
    b.items.push(t);
    b.bytes += m.bytes;
    b.files += m.files;
  }
  for (const b of open.values()) out.push(b.items);
  return out;
}
