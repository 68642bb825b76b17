import { usage } from '../common/errors.js';
import { defaultHolder } from './options.js';
import { Repository } from '../repo/repository.js';
import { applyRetention, checkPolicy, type RetentionDecision, type RetentionPolicy } from './retention.js';

export interface PointInfo {
  pointId: string;
  created: string;
  partitions: number;
  entries: number;
  bytes: number;
  /** What this backup copied (the manifest's stats.copiedBytes); the same key as BackupResult's. */
  bytesCopied: number;
}

/** Restore points of one database's repository, oldest first. */
export function listPoints(backupDir: string, dbPath: string): PointInfo[] {
  const repo = Repository.open(backupDir, dbPath, false);
  return repo.points().map((id) => {
    const m = repo.point(id);
    const entries = m.partitions.flatMap((p) => Object.values(p.tables));
    return { pointId: id, created: m.created, partitions: m.partitions.length, entries: entries.length, bytes: entries.reduce((a, e) => a + e.bytes, 0), bytesCopied: m.stats.copiedBytes };
  });
}

export interface PruneResult {
  removedPoints: string[];
  keptPoints: string[];
  removedDataDirs: number;
  /** True when nothing was deleted (`--dry-run`): the lists say what would go. */
  dryRun: boolean;
  /** Every point, newest first, with whether the policy keeps it and why (restic's forget --dry-run). */
  decisions: RetentionDecision[];
}

/**
 * Retention: keeps the points the policy keeps (restic's forget semantics, retention.ts; a plain
 * number is `--keep-last`) and deletes data that no kept point (or open journal) references,
 * under the repository lock (src/repo/prune.ts plans, then executes). `dryRun` plans only.
 */
export function prune(backupDir: string, dbPath: string, policy: RetentionPolicy | number, holder = defaultHolder(), dryRun = false): PruneResult {
  const p: RetentionPolicy = typeof policy === 'number' ? { last: policy } : policy;
  if (typeof policy === 'number' && (!Number.isInteger(policy) || policy < 1)) throw usage('--keep-last must be an integer >= 1');
  checkPolicy(p);
  const repo = Repository.open(backupDir, dbPath, false);
  const lock = dryRun ? undefined : repo.lock(holder);
  try {
    const decisions = applyRetention(
      repo.points().map((id) => ({ pointId: id, created: repo.point(id).created })),
      p,
    );
    const plan = repo.planPrune(new Set(decisions.filter((d) => d.keep).map((d) => d.pointId)));
    if (!dryRun) repo.executePrune(plan);
    return { removedPoints: plan.removedPoints, keptPoints: plan.keptPoints, removedDataDirs: plan.dataDirs.length, dryRun, decisions };
  } finally {
    lock?.release();
  }
}
