import fs from 'node:fs';
import path from 'node:path';
import { conflict } from '../common/errors.js';
import { removeGroupTemps, writeJsonAtomic, type GroupTemps } from '../common/durable.js';
import { removeTree, renamePath } from '../common/fsio.js';
import { groupSyncAll, syncEach } from '../common/group-sync.js';
import { applyCommitLocked, commitRecordFile, loadChunks, loadDatabase, nextCids, prepareChunkFiles, tableOf, type ChunkMeta, type Cluster, type CommitRecord, type DatabaseDef, type FileEntry } from './catalog.js';
import { foldLongLogLocked } from './chunk-summaries.js';
import { gcChunkLocked, livePins } from './mvcc.js';
import { extendValueLevels } from './scheme.js';

/**
 * The multi-partition commit: many staged versions of one table become visible together or not at
 * all (docs/FORMAT.md "The multi-partition commit"). Runs under the database lock.
 */

/** One staged version of the table in one chunk. */
export interface StagedPart {
  /** The chunk as it was when staging began; `isNew` when the load placed it and the catalog does not have it yet. */
  chunk: ChunkMeta;
  isNew: boolean;
  /** The cid of the table's version the stage was built on (undefined: the chunk had no data of the table). */
  baseCid: number | undefined;
  dir: string;
  rows: number;
  files: FileEntry[];
}

/** Checks that nothing the stages were built on changed meanwhile; returns the current chunks by path. */
function checkBases(c: Cluster, db: string, table: string, parts: StagedPart[]): Map<string, ChunkMeta> {
  const byPath = new Map(loadChunks(c, db).map((k) => [k.path, k]));
  for (const p of parts) {
    const cur = byPath.get(p.chunk.path);
    if (p.isNew) {
      if (cur) throw conflict(`partition ${p.chunk.path} of ${db} was created by another writer during the load; nothing was loaded, run it again`);
      continue;
    }
    if (!cur || cur.chunkId !== p.chunk.chunkId) throw conflict(`partition ${p.chunk.path} of ${db} was dropped during the load; nothing was loaded`);
    if (cur.tables[table]?.cid !== p.baseCid)
      throw conflict(`partition ${p.chunk.path} of ${db} was written by another writer during the load; nothing was loaded, run it again`);
  }
  return byPath;
}

/**
 * Up to this many parent directories are fsynced one by one after the renames, rather than with
 * a syncfs: a syncfs would also flush whatever other copies had written meanwhile, holding the
 * lock and the event loop (a restore onto emulated disks: 0.3–0.65 s per group commit). But each
 * fsync of an already committed directory costs a device cache flush: the many shape's 500
 * parents per group took a 2,000-partition restore-db from 5 s to 10–12 s on the shared disk.
 */
const FSYNC_EACH_MAX = 16;

/** One staged version to publish: the chunk as the catalog holds it now, and what the stage holds. */
export interface PublishItem {
  chunk: ChunkMeta;
  table: string;
  physIndex: number;
  dir: string;
  rows: number;
  files: FileEntry[];
  origin?: { chunkId: string; cid: number };
}

/**
 * Publishes staged versions of any tables in any chunks of one database together: allocate the
 * cids in one write, rename each stage to its version directory, write the new chunk files as
 * temps, make the stages' files, every rename and the temps durable in one group sync
 * (common/group-sync.ts; none needs an fsync of its own), write the commit record (the commit
 * point), apply it (the change log, then each temp renamed over its chunk file), remove it, then
 * GC. Before the commit point a failure leaves the catalog as it was (renamed directories are
 * removed, or GC removes them as unreferenced). Runs under the database lock.
 * `stagesDurable`: the caller already made the stages' files durable (commitStages), so only the
 * renames' parent directories need syncing; see FSYNC_EACH_MAX for how.
 */
export function publishLocked(c: Cluster, db: string, items: PublishItem[], def?: DatabaseDef, stagesDurable = false): ChunkMeta[] {
  foldLongLogLocked(c, db);
  const cid0 = nextCids(c, db, items.length);
  const renamed: string[] = [];
  const merged = new Map<string, ChunkMeta>();
  let chunks: ChunkMeta[] = [];
  let temps: GroupTemps | undefined;
  try {
    items.forEach((p, i) => {
      const cid = cid0 + i;
      const version = `${p.table}_${p.physIndex}_${cid}`;
      const to = path.join(c.chunkDir(p.chunk, db), version);
      renamePath(p.dir, to);
      renamed.push(to);
      const base = merged.get(p.chunk.chunkId) ?? p.chunk;
      const bytes = p.files.reduce((a, f) => a + f.size, 0);
      const v = { cid, version, rows: p.rows, bytes, files: p.files, updateTime: new Date().toISOString(), ...(p.origin ? { origin: p.origin } : {}) };
      merged.set(p.chunk.chunkId, { ...base, tables: { ...base.tables, [p.table]: v } });
    });
    // The chunk files' temps, written now: one group sync makes them durable with the renames.
    chunks = [...merged.values()];
    temps = prepareChunkFiles(c, db, chunks);
    syncPublished(renamed, temps, stagesDurable);
    writeJsonAtomic(commitRecordFile(c, db), { format: 1, ...(def ? { def } : {}), chunks } satisfies CommitRecord);
  } catch (err) {
    if (temps) removeGroupTemps(temps);
    // A record that made it to its name is committed (the next lock holder applies it): keep its directories.
    if (!fs.existsSync(commitRecordFile(c, db))) for (const d of renamed) removeTree(d);
    throw err;
  }
  // Past the commit point: the record makes the versions visible; applying it is idempotent.
  applyCommitLocked(c, db, { format: 1, ...(def ? { def } : {}), chunks }, temps);
  const pins = livePins(c);
  for (const k of chunks) gcChunkLocked(c, db, k, pins);
  return chunks;
}

/**
 * Makes the renames durable (their parents; the renamed stages too unless the caller made them
 * durable already) and the chunk files' temps, in one group sync: the temps then need none of
 * their own, one syncfs fewer per group commit. A few parents of durable stages are fsynced one
 * by one instead (FSYNC_EACH_MAX), and the temps then take their own group sync.
 */
function syncPublished(renamed: string[], temps: GroupTemps, stagesDurable: boolean): void {
  const parents = [...new Set(renamed.map((d) => path.dirname(d)))];
  const chunkFiles = { dirs: temps.dirs, files: temps.temps };
  if (stagesDurable && parents.length <= FSYNC_EACH_MAX) {
    syncEach(parents, []);
    groupSyncAll([chunkFiles]);
  } else groupSyncAll([{ dirs: stagesDurable ? parents : [...renamed, ...parents] }, chunkFiles]);
}

/** A load's commit: check the bases of one table's stages, extend the scheme, publish them together. */
export function commitPartsLocked(c: Cluster, db: string, table: string, physIndex: number, parts: StagedPart[], newValues: ReadonlyMap<number, Iterable<string | number>>): ChunkMeta[] {
  const def: DatabaseDef = loadDatabase(c, db);
  if (tableOf(def, table).physIndex !== physIndex) throw conflict(`table ${table} of ${db} was dropped and created again during the load; nothing was loaded`);
  const byPath = checkBases(c, db, table, parts);
  const grew = extendValueLevels(def.scheme, newValues);
  const items = parts.map((p) => ({ chunk: byPath.get(p.chunk.path) ?? p.chunk, table, physIndex, dir: p.dir, rows: p.rows, files: p.files }));
  return publishLocked(c, db, items, grew ? def : undefined);
}
