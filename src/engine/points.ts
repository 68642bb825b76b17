import path from 'node:path';
import { usage } from '../common/errors.js';
import { syncDir } from '../common/fsio.js';
import { defaultHolder } from './options.js';
import { readJournals } from './repo/journal.js';
import { entryKey, readManifest } from './repo/manifest.js';
import { Repository } from './repo/repository.js';
import { listDir, removeEntry, wrongKind, type EntryKind } from './repo/safe-fs.js';

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
    const m = readManifest(repo.dir, id);
    const entries = m.partitions.flatMap((p) => Object.values(p.tables));
    return { pointId: id, created: m.created, partitions: m.partitions.length, entries: entries.length, bytes: entries.reduce((a, e) => a + e.bytes, 0), bytesCopied: m.stats.copiedBytes };
  });
}

export interface PruneResult {
  removedPoints: string[];
  keptPoints: string[];
  removedDataDirs: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * What prune would delete under data/: each `data/<uuid>/<table>/<cid>` that no live key names,
 * then each table and chunk directory left empty. Names of other shapes are junk that prune never
 * touches (check lists them). A link, FIFO or file where a directory belongs is CORRUPT, found
 * here, before anything is deleted.
 */
function planDataRemoval(repoDir: string, live: Set<string>): { dirs: string[][]; emptied: string[][] } {
  const dirs: string[][] = [];
  const emptied: string[][] = [];
  const want = (rel: string[], kind: EntryKind) => {
    if (kind !== 'directory') throw wrongKind(path.join(repoDir, ...rel), kind, 'directory');
  };
  for (const chunk of listDir(repoDir, ['data']).filter((e) => UUID_RE.test(e.name))) {
    want(['data', chunk.name], chunk.kind);
    const tables = listDir(repoDir, ['data', chunk.name]);
    let chunkLeft = tables.length;
    for (const table of tables.filter((e) => IDENT_RE.test(e.name))) {
      want(['data', chunk.name, table.name], table.kind);
      const rel = ['data', chunk.name, table.name];
      const cids = listDir(repoDir, rel);
      let left = cids.length;
      for (const cid of cids.filter((e) => /^\d+$/.test(e.name))) {
        if (live.has(entryKey(chunk.name, table.name, Number(cid.name)))) continue;
        want([...rel, cid.name], cid.kind);
        dirs.push([...rel, cid.name]);
        left--;
      }
      if (!left) {
        emptied.push(rel);
        chunkLeft--;
      }
    }
    if (!chunkLeft) emptied.push(['data', chunk.name]);
  }
  return { dirs, emptied };
}

/**
 * Retention: keeps the newest N points and deletes data that no kept point (or open journal)
 * references. Everything is read and checked first, so a malformed repository changes nothing.
 */
export function prune(backupDir: string, dbPath: string, keepLast: number, holder = defaultHolder()): PruneResult {
  if (!Number.isInteger(keepLast) || keepLast < 1) throw usage('--keep-last must be an integer >= 1');
  const repo = Repository.open(backupDir, dbPath, false);
  const lock = repo.lock(holder);
  try {
    const ids = repo.points();
    const kept = ids.slice(-keepLast);
    const removed = ids.slice(0, Math.max(0, ids.length - keepLast));
    const live = new Set<string>(readJournals(repo.dir).records.keys());
    for (const id of kept) for (const p of readManifest(repo.dir, id).partitions) for (const [t, e] of Object.entries(p.tables)) live.add(entryKey(p.chunkId, t, e.cid));
    const plan = planDataRemoval(repo.dir, live);
    // Manifests go first, durably: a crash must never leave a manifest that names removed data.
    // A crash after this leaves only unreferenced data, which the next prune removes.
    for (const id of removed) removeEntry(repo.dir, ['points', `${id}.json`]);
    if (removed.length) syncDir(path.join(repo.dir, 'points'));
    for (const rel of plan.dirs) removeEntry(repo.dir, rel);
    for (const rel of plan.emptied) removeEntry(repo.dir, rel);
    return { removedPoints: removed, keptPoints: kept, removedDataDirs: plan.dirs.length };
  } finally {
    lock.release();
  }
}
