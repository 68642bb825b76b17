import path from 'node:path';
import { syncDir } from '../common/fsio.js';
import { readJournals } from './journal.js';
import { entryKey } from './manifest.js';
import { keysInto, pickManifest } from './manifest-scan.js';
import { listDir, removeEntry, wrongKind, type EntryKind } from './safe-fs.js';

/**
 * Retention as restic does it: PlanPrune reads and checks everything first (a malformed
 * repository changes nothing), then ExecutePrune deletes in the order the durability rules ask.
 */
export interface PrunePlan {
  keptPoints: string[];
  removedPoints: string[];
  /** `data/<uuid>/<table>/<cid>` directories that no kept point or leftover journal names. */
  dataDirs: string[][];
  /** Table and chunk directories those removals leave empty. */
  emptied: string[][];
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Keeps the newest `keep` of `pointIds` (oldest first), or exactly the ids in the set `keep` (a
 * retention policy's choice), and plans what the removal of the others frees.
 */
export function planPrune(repoDir: string, pointIds: string[], keep: number | ReadonlySet<string>): PrunePlan {
  const kept = typeof keep === 'number' ? new Set(pointIds.slice(-keep)) : keep;
  const keptPoints = pointIds.filter((id) => kept.has(id));
  const removedPoints = pointIds.filter((id) => !kept.has(id));
  const live = new Set<string>(readJournals(repoDir).records.keys());
  // Each kept point scanned as summaries: read whole, a point of 100,000 partitions was ~1 GB of objects.
  for (const id of keptPoints) pickManifest(repoDir, id, keysInto(live));
  return { keptPoints, removedPoints, ...planDataRemoval(repoDir, live) };
}

/**
 * Manifests go first, durably: a crash must never leave a manifest that names removed data. A
 * crash after the fsync of points/ leaves only unreferenced data, which the next prune removes.
 */
export function executePrune(repoDir: string, plan: PrunePlan): void {
  for (const id of plan.removedPoints) removeEntry(repoDir, ['points', `${id}.json`]);
  if (plan.removedPoints.length) syncDir(path.join(repoDir, 'points'));
  for (const rel of plan.dataDirs) removeEntry(repoDir, rel);
  for (const rel of plan.emptied) removeEntry(repoDir, rel);
}

/**
 * What prune would delete under data/: each `data/<uuid>/<table>/<cid>` that no live key names,
 * then each table and chunk directory left empty. Names of other shapes are junk that prune never
 * touches (check lists them). A link, FIFO or file where a directory belongs is CORRUPT, found
 * here, before anything is deleted.
 */
function planDataRemoval(repoDir: string, live: Set<string>): { dataDirs: string[][]; emptied: string[][] } {
  const dataDirs: string[][] = [];
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
        dataDirs.push([...rel, cid.name]);
        left--;
      }
      if (!left) {
        emptied.push(rel);
        chunkLeft--;
      }
    }
    if (!chunkLeft) emptied.push(['data', chunk.name]);
  }
  return { dataDirs, emptied };
}
