import { usage } from '../common/errors.js';
import { defaultHolder } from './options.js';
import { Repository } from '../repo/repository.js';
import { abortOrphanUploads } from '../repo/s3-repos.js';
import type { PasswordSource } from '../repo/config.js';
import type { ManifestPartition } from '../repo/manifest.js';
import { applyRetention, checkPolicy, type RetentionDecision, type RetentionPolicy } from './retention.js';

export interface PointInfo {
  pointId: string;
  created: string;
  partitions: number;
  entries: number;
  bytes: number;
  /** What the point's entries take in the repository: their blobs as stored (compressed, encrypted); v1: bytes. */
  bytesStored: number;
  /** What this backup copied (the manifest's stats.copiedBytes); the same key as BackupResult's. */
  bytesCopied: number;
}

/**
 * Restore points of one database's repository, oldest first. A point's totals are read from its
 * verified head; its partitions are parsed only for an older point without them.
 */
export function listPoints(backupDir: string, dbPath: string, password?: PasswordSource): PointInfo[] {
  const repo = Repository.open(backupDir, dbPath, false, undefined, password ? { password } : {});
  return repo.points().map((id) => pointInfo(repo, id));
}

function pointInfo(repo: Repository, id: string): PointInfo {
  const sums = { partitions: 0, entries: 0, bytes: 0, bytesStored: 0 };
  const add = (p: ManifestPartition) => {
    sums.partitions++;
    for (const [t, e] of Object.entries(p.tables)) {
      sums.entries++;
      sums.bytes += e.bytes;
      sums.bytesStored += repo.storedBytes(p.chunkId, t, e);
    }
  };
  // A point's totals say everything: v1 stores an entry as its files, and a v2 point written since
  // bytesStored came records what its blobs took. An older v2 point sums its entries' blobs from the
  // pack indexes (at 100,000 partitions x 2 tables that read took `points` to 7 s and 580 MB).
  const head = repo.scanPoint(id);
  const t = head.totals;
  if (t && (!repo.packs || t.bytesStored !== undefined)) Object.assign(sums, t, { bytesStored: t.bytesStored ?? t.bytes });
  else repo.scanPoint(id, add);
  return { pointId: id, created: head.created, ...sums, bytesCopied: head.stats.copiedBytes };
}

export interface PruneResult {
  removedPoints: string[];
  keptPoints: string[];
  /** v1: data directories removed. */
  removedDataDirs: number;
  /** True when nothing was deleted (`--dry-run`): the lists say what would go. */
  dryRun: boolean;
  /** Every point, newest first, with whether the policy keeps it and why (restic's forget --dry-run). */
  decisions: RetentionDecision[];
  /** v2: packs removed whole, and packs rewritten with only their referenced entries. */
  removedPacks: number;
  repackedPacks: number;
  /** S3: multipart uploads of killed runs aborted (older than CHUNKVAULT_S3_UPLOAD_AGE, default an hour). */
  abortedUploads?: number;
}

/**
 * Retention: keeps the points the policy keeps (restic's forget semantics, retention.ts; a plain
 * number is `--keep-last`) and deletes data that no kept point (or open journal) references,
 * under the repository lock (src/repo/prune.ts plans, then executes). `dryRun` plans only.
 */
export interface PruneOptions {
  holder?: string;
  /** Plan only: delete nothing; the result says what would go and why. */
  dryRun?: boolean;
  /** v2: repack partly used packs while unreferenced bytes exceed this share (percent) of all pack bytes. */
  maxUnusedPercent?: number;
  password?: PasswordSource;
}

export function prune(backupDir: string, dbPath: string, policy: RetentionPolicy | number, o: PruneOptions = {}): PruneResult {
  const { holder = defaultHolder(), dryRun = false, maxUnusedPercent, password } = o;
  const p: RetentionPolicy = typeof policy === 'number' ? { last: policy } : policy;
  if (typeof policy === 'number' && (!Number.isInteger(policy) || policy < 1)) throw usage('--keep-last must be an integer >= 1');
  checkPolicy(p);
  if (maxUnusedPercent !== undefined && !(maxUnusedPercent >= 0 && maxUnusedPercent <= 100)) throw usage(`--max-unused must be a percentage in [0, 100], got ${maxUnusedPercent}`);
  const repo = Repository.open(backupDir, dbPath, false, undefined, password ? { password } : {});
  const lock = dryRun ? undefined : repo.lock(holder);
  try {
    const decisions = applyRetention(
      repo.points().map((id) => ({ pointId: id, created: repo.scanPointId(id).created })),
      p,
    );
    const plan = repo.planPrune(new Set(decisions.filter((d) => d.keep).map((d) => d.pointId)), maxUnusedPercent === undefined ? undefined : maxUnusedPercent / 100);
    // Prune deletes what the plan found unreferenced: a writer that took the lock over may have referenced it since.
    lock?.confirm?.();
    if (!dryRun) repo.executePrune(plan);
    const uploads = !dryRun && repo.packs ? abortOrphanUploads(repo.packs) : undefined;
    const packs = 'packsRemoved' in plan ? { removedDataDirs: 0, removedPacks: plan.packsRemoved.length + plan.orphans.filter((n) => n.startsWith('packs/')).length, repackedPacks: plan.repack.length } : { removedDataDirs: plan.dataDirs.length, removedPacks: 0, repackedPacks: 0 };
    return { removedPoints: plan.removedPoints, keptPoints: plan.keptPoints, ...packs, ...(uploads !== undefined ? { abortedUploads: uploads } : {}), dryRun, decisions };
  } finally {
    lock?.release();
  }
}
