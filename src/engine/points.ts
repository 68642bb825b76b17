import { usage } from '../common/errors.js';
import { defaultHolder } from './options.js';
import { Repository } from '../repo/repository.js';

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
  /** v1: data directories removed. */
  removedDataDirs: number;
  /** v2: packs removed whole, and packs rewritten with only their referenced entries. */
  removedPacks: number;
  repackedPacks: number;
}

/**
 * Retention: keeps the newest N points and deletes data that no kept point (or open journal)
 * references, under the repository lock (src/repo/prune.ts plans, then executes).
 */
export function prune(backupDir: string, dbPath: string, keepLast: number, holder = defaultHolder(), maxUnusedPercent?: number): PruneResult {
  if (!Number.isInteger(keepLast) || keepLast < 1) throw usage('--keep-last must be an integer >= 1');
  if (maxUnusedPercent !== undefined && !(maxUnusedPercent >= 0 && maxUnusedPercent <= 100)) throw usage(`--max-unused must be a percentage in [0, 100], got ${maxUnusedPercent}`);
  const repo = Repository.open(backupDir, dbPath, false);
  const lock = repo.lock(holder);
  try {
    const plan = repo.planPrune(keepLast, maxUnusedPercent === undefined ? undefined : maxUnusedPercent / 100);
    repo.executePrune(plan);
    const packs = 'packsRemoved' in plan ? { removedDataDirs: 0, removedPacks: plan.packsRemoved.length + plan.orphans.filter((n) => n.startsWith('packs/')).length, repackedPacks: plan.repack.length } : { removedDataDirs: plan.dataDirs.length, removedPacks: 0, repackedPacks: 0 };
    return { removedPoints: plan.removedPoints, keptPoints: plan.keptPoints, ...packs };
  } finally {
    lock.release();
  }
}
