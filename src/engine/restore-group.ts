import { commitStages, type Cluster, type StagedCommit } from '../store/index.js';

/**
 * Restore's group durability (issue 14): copied partitions are not committed one by one (an
 * fdatasync per file and a full MVCC commit per (partition, table)); they wait here and are
 * published together through the store's multi-partition commit (store commitStages) once a
 * group reaches `entries` stages or `bytes`, or has waited `ms`, and at the end. Groups commit one after another, in
 * the background, while the next copies run. A kill leaves each partition entirely old or
 * entirely new (a group is one commit record); a rerun copies again what no committed group held.
 */
export interface GroupLimits {
  entries: number;
  bytes: number;
  /** A group also commits once its first stage has waited this long (a slow or throttled restore still makes progress that a kill keeps). */
  ms: number;
}

export class GroupCommitter<J> {
  private pending: { job: J; item: StagedCommit; bytes: number }[] = [];
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  /** `ready`: no group commits before it resolves (the stages' new parent directories made durable); if it rejects, every group fails with its error. */
  constructor(
    private readonly c: Cluster,
    private readonly db: string,
    private readonly limits: GroupLimits,
    private readonly ready: Promise<void>,
    private readonly settled: (jobs: J[], err?: unknown) => void,
  ) {
    // Handled where a group awaits it; a restore whose copies all failed never does.
    ready.catch(() => undefined);
  }

  /** A copied stage, committed with the group it joins; may start that group's commit. */
  add(job: J, item: StagedCommit, bytes: number): void {
    this.pending.push({ job, item, bytes });
    this.pendingBytes += bytes;
    if (this.pending.length >= this.limits.entries || this.pendingBytes >= this.limits.bytes) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.limits.ms);
  }

  /** Commits what is pending (after any group already committing); resolves when all have settled. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (group.length) {
      this.chain = this.chain.then(() =>
        this.ready
          .then(
            () => commitStages(this.c, this.db, group.map((g) => g.item)),
            (err: unknown) => {
              for (const g of group) g.item.stage.abort(); // as commitStages does on its own failures
              throw err;
            },
          )
          .then(
            () => this.settled(group.map((g) => g.job)),
            (err: unknown) => this.settled(group.map((g) => g.job), err),
          ),
      );
    }
    return this.chain;
  }
}
