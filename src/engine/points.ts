import fs from 'node:fs';
import path from 'node:path';
import { usage } from '../common/errors.js';
import { defaultHolder } from './options.js';
import { readJournals } from './repo/journal.js';
import { entryKey, pointsDir, readManifest } from './repo/manifest.js';
import { Repository } from './repo/repository.js';

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

/** Retention: keeps the newest N points and deletes data that no kept point (or open journal) references. */
export function prune(backupDir: string, dbPath: string, keepLast: number, holder = defaultHolder()): PruneResult {
  if (!Number.isInteger(keepLast) || keepLast < 1) throw usage('--keep-last must be an integer >= 1');
  const repo = Repository.open(backupDir, dbPath, false);
  const lock = repo.lock(holder);
  try {
    const ids = repo.points();
    const kept = ids.slice(-keepLast);
    const removed = ids.slice(0, Math.max(0, ids.length - keepLast));
    // Manifests go first: a crash after this leaves unreferenced data, which the next prune removes.
    for (const id of removed) fs.rmSync(path.join(pointsDir(repo.dir), `${id}.json`), { force: true });
    const live = new Set<string>(readJournals(repo.dir).records.keys());
    for (const id of kept) for (const p of readManifest(repo.dir, id).partitions) for (const [t, e] of Object.entries(p.tables)) live.add(entryKey(p.chunkId, t, e.cid));
    let removedDataDirs = 0;
    const data = path.join(repo.dir, 'data');
    for (const chunk of fs.existsSync(data) ? fs.readdirSync(data) : []) {
      for (const table of fs.readdirSync(path.join(data, chunk))) {
        for (const cid of fs.readdirSync(path.join(data, chunk, table))) {
          if (live.has(entryKey(chunk, table, Number(cid))) || cid.startsWith('.')) continue;
          fs.rmSync(path.join(data, chunk, table, cid), { recursive: true, force: true });
          removedDataDirs++;
        }
        if (!fs.readdirSync(path.join(data, chunk, table)).length) fs.rmdirSync(path.join(data, chunk, table));
      }
      if (!fs.readdirSync(path.join(data, chunk)).length) fs.rmdirSync(path.join(data, chunk));
    }
    return { removedPoints: removed, keptPoints: kept, removedDataDirs };
  } finally {
    lock.release();
  }
}
