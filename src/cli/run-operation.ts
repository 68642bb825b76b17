import type { Observer } from '../engine/index.js';
import type { Ctx } from './action.js';
import { progressBar } from './progress.js';

/** The job types getBackupStatus reports, plus the other long operations that can run as jobs. */
export type OperationType = 'BACKUP_BY_COPY_FILE' | 'RESTORE_BY_COPY_FILE' | 'MIGRATE' | 'CHECK';

export interface OperationMeta {
  type: OperationType;
  /** e.g. "backup dfs://testdb to /bak" */
  desc: string;
}

/**
 * Every long command runs through here: it gets an observer (progress bar on a TTY) and a lock
 * holder name, and its result is rendered as --json or human output.
 */
export async function runOperation<T>(ctx: Ctx, meta: OperationMeta, fn: (observer: Observer, holder: string) => Promise<T>, render: (result: T) => void): Promise<number | void> {
  const bar = progressBar(meta.type === 'CHECK' ? 'check' : meta.type === 'BACKUP_BY_COPY_FILE' ? 'backup' : 'restore', ctx.json);
  let result: T;
  try {
    result = await fn({ bytes: (d, t) => bar.update(d, t) }, `pid ${process.pid}`);
  } finally {
    bar.stop();
  }
  render(result);
}
