import { PIPELINE_DEFAULTS } from '../io/index.js';

/**
 * Items gathered into groups and flushed together, one group after another, in the background
 * while callers go on: a group flushes once it holds `entries` items or `bytes`, or once its
 * first item has waited `ms`, and at the end (flush()). Restore's group commit and the v1
 * backup's group durability both run on it (restore-group.ts, backup-mirror.ts).
 */
export interface GroupLimits {
  entries: number;
  bytes: number;
  /** A group also flushes once its first item has waited this long (a slow or throttled run still makes progress that a kill keeps). */
  ms: number;
}

/** The limits restore's group commit and the v1 backup's group durability run with (io/defaults.ts, where they were measured). */
export const COMMIT_GROUP: GroupLimits = { entries: PIPELINE_DEFAULTS.commitGroupEntries, bytes: PIPELINE_DEFAULTS.commitGroupBytes, ms: PIPELINE_DEFAULTS.commitGroupMs };

export class GroupFlusher<T> {
  private pending: T[] = [];
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  /** `run` flushes one group; a group's failure fails that flush() and every later one. */
  constructor(
    private readonly limits: GroupLimits,
    private readonly run: (group: T[]) => Promise<void>,
  ) {}

  /** Adds an item; returns the flush it started, if it filled its group. */
  add(item: T, bytes: number): Promise<void> | undefined {
    this.pending.push(item);
    this.pendingBytes += bytes;
    if (this.pending.length >= this.limits.entries || this.pendingBytes >= this.limits.bytes) return this.flush();
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.limits.ms);
    return undefined;
  }

  /** Flushes what is pending (after any group already flushing); resolves when every group so far has. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (group.length) this.chain = this.chain.then(() => this.run(group));
    return this.chain;
  }
}
