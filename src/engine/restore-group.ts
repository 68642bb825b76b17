import { commitStages, type Cluster, type StagedCommit } from '../store/index.js';
import { GroupFlusher, type GroupLimits } from './group-flush.js';

/**
 * Restore's group durability (issue 14): copied partitions are not committed one by one (an
 * fdatasync per file and a full MVCC commit per (partition, table)); they wait here and are
 * published together through the store's multi-partition commit (store commitStages) once a
 * group reaches `entries` stages or `bytes`, or has waited `ms`, and at the end. Groups commit one after another, in
 * the background, while the next copies run. A kill leaves each partition entirely old or
 * entirely new (a group is one commit record); a rerun copies again what no committed group held.
 * A group that fails hands its jobs to `settled` with the error; the next groups still commit.
 */
export class GroupCommitter<J> {
  private readonly groups: GroupFlusher<{ job: J; item: StagedCommit }>;

  /** `ready`: no group commits before it resolves (the stages' new parent directories made durable); if it rejects, every group fails with its error. */
  constructor(c: Cluster, db: string, limits: GroupLimits, ready: Promise<void>, settled: (jobs: J[], err?: unknown) => void) {
    // Handled where a group awaits it; a restore whose copies all failed never does.
    ready.catch(() => undefined);
    this.groups = new GroupFlusher(limits, async (group) => {
      const jobs = group.map((g) => g.job);
      try {
        await ready.catch((err: unknown) => {
          for (const g of group) g.item.stage.abort(); // as commitStages does on its own failures
          throw err;
        });
        await commitStages(c, db, group.map((g) => g.item));
      } catch (err) {
        return settled(jobs, err);
      }
      settled(jobs);
    });
  }

  /** A copied stage, committed with the group it joins; may start that group's commit. */
  add(job: J, item: StagedCommit, bytes: number): void {
    void this.groups.add({ job, item }, bytes);
  }

  /** Commits what is pending (after any group already committing); resolves when all have settled. */
  flush(): Promise<void> {
    return this.groups.flush();
  }
}
