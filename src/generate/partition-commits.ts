import { commitStages, type Cluster, type StagedCommit } from '../store/index.js';

/**
 * generate's commits. The workers write each partition's files without an fdatasync each; the
 * staged versions wait here and are published with the store's multi-partition commit
 * (commitStages: one group sync off the event loop, then one commit record per database), one
 * group after another in the background while the workers write on. What is pending when a
 * group starts goes into it, so groups grow when commits fall behind. A failed commit removes its
 * stages (commitStages does), and every stage still pending or added later is removed too.
 */
export class PartitionCommits {
  private readonly pending = new Map<string, StagedCommit[]>();
  private chain: Promise<void> = Promise.resolve();
  /** The first commit's error, if one failed. */
  failure: unknown;

  /** `ready`: nothing commits before it resolves (the placed chunks' directories made durable); if it rejects, every group fails with its error. */
  constructor(
    private readonly c: Cluster,
    private readonly ready: Promise<void>,
  ) {
    // Handled where a group awaits it; a generate whose workers all failed never does.
    ready.catch(() => undefined);
  }

  /** Staged versions of one database's tables, committed with the next group. */
  add(db: string, items: StagedCommit[]): void {
    if (this.failure !== undefined) return void items.forEach((x) => x.stage.abort());
    let list = this.pending.get(db);
    if (!list) this.pending.set(db, (list = []));
    list.push(...items);
    this.chain = this.chain.then(() => this.commitPending());
  }

  private async commitPending(): Promise<void> {
    const groups = [...this.pending];
    this.pending.clear();
    if (groups.length) await this.ready.catch((err: unknown) => (this.failure ??= err));
    for (const [db, items] of groups) {
      if (this.failure !== undefined) {
        for (const x of items) x.stage.abort();
        continue;
      }
      try {
        await commitStages(this.c, db, items);
      } catch (err) {
        this.failure = err;
      }
    }
  }

  /** Resolves once every group added so far has committed or failed. */
  settled(): Promise<void> {
    return this.chain;
  }
}
