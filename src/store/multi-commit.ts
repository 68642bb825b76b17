import fs from 'node:fs';
import path from 'node:path';
import { conflict } from '../common/errors.js';
import { removeGroupTemps, writeJsonAtomic, type GroupTemps } from '../common/durable.js';
import { removeTree, renamePath } from '../common/fsio.js';
import { groupSyncAll, groupSyncAllAsync, syncEach, type SyncSet } from '../common/group-sync.js';
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
  /** The chunk's directory was made by this process's placement (mvcc.ts dirMadeHere). */
  dirMadeHere?: boolean;
}

/** A publish under way: the stages renamed so far, the chunks' new records and their temps. */
interface Publishing {
  renamed: string[];
  chunks: ChunkMeta[];
  temps?: GroupTemps;
  def?: DatabaseDef;
  /** The database's directory on each volume the stages are on (Cluster.dbRootsOf). */
  anchors?: string[];
  /** The chunks GC looks at afterwards: not those where every item adds a version to a directory this process made. */
  collect?: Set<string>;
}

/**
 * Publishes staged versions of any tables in any chunks of one database together: allocate the
 * cids in one write, rename each stage to its version directory, write the new chunk files as
 * temps, make the stages' files, every rename and the temps durable in one group sync
 * (common/group-sync.ts; none needs an fsync of its own), write the commit record (the commit
 * point), apply it (the change log, then each temp renamed over its chunk file), remove it, then
 * GC. Before the commit point a failure leaves the catalog as it was (renamed directories are
 * removed, or GC removes them as unreferenced). Runs under the database lock.
 */
export function publishLocked(c: Cluster, db: string, items: PublishItem[], def?: DatabaseDef): ChunkMeta[] {
  const p: Publishing = { renamed: [], chunks: [], ...(def ? { def } : {}) };
  try {
    stagePublish(c, db, items, p);
    syncPublished(p, false, groupSyncAll);
    writeJsonAtomic(commitRecordFile(c, db), recordOf(p));
  } catch (err) {
    abandonPublish(c, db, p);
    throw err;
  }
  return applyPublished(c, db, p);
}

/**
 * publishLocked of stages whose files the caller already made durable (commitStages), so only the
 * renames' parent directories need syncing (see FSYNC_EACH_MAX for how), with that sync off the
 * event loop. The lock stays held meanwhile (the caller holds it with Cluster.withDbLockAsync):
 * a restore's main thread then takes the workers' replies and posts their next tasks while the
 * syncfs runs, rather than waiting on it (0.3-0.5 s of a many-shape restore's main thread).
 */
export async function publishLockedAsync(c: Cluster, db: string, items: PublishItem[]): Promise<ChunkMeta[]> {
  const p: Publishing = { renamed: [], chunks: [] };
  try {
    stagePublish(c, db, items, p);
    await syncPublished(p, true, groupSyncAllAsync);
    writeJsonAtomic(commitRecordFile(c, db), recordOf(p));
  } catch (err) {
    abandonPublish(c, db, p);
    throw err;
  }
  return applyPublished(c, db, p);
}

/** Before the commit point: the cids, each stage renamed to its version, the chunk files' temps. */
function stagePublish(c: Cluster, db: string, items: PublishItem[], p: Publishing): void {
  foldLongLogLocked(c, db);
  p.anchors = c.dbRootsOf(items.map((x) => x.chunk), db);
  const cid0 = nextCids(c, db, items.length);
  const merged = new Map<string, ChunkMeta>();
  items.forEach((x, i) => {
    const cid = cid0 + i;
    const version = `${x.table}_${x.physIndex}_${cid}`;
    const to = path.join(c.chunkDir(x.chunk, db), version);
    renamePath(x.dir, to);
    p.renamed.push(to);
    const base = merged.get(x.chunk.chunkId) ?? x.chunk;
    const bytes = x.files.reduce((a, f) => a + f.size, 0);
    const v = { cid, version, rows: x.rows, bytes, files: x.files, updateTime: new Date().toISOString(), ...(x.origin ? { origin: x.origin } : {}) };
    merged.set(x.chunk.chunkId, { ...base, tables: { ...base.tables, [x.table]: v } });
  });
  // The chunk files' temps, written now: one group sync makes them durable with the renames.
  p.chunks = [...merged.values()];
  p.collect = new Set(items.filter((x) => !x.dirMadeHere || x.chunk.tables[x.table]).map((x) => x.chunk.chunkId));
  p.temps = prepareChunkFiles(c, db, p.chunks);
}

const recordOf = (p: Publishing): CommitRecord => ({ format: 1, ...(p.def ? { def: p.def } : {}), chunks: p.chunks });

/** A failure before the commit point: the temps removed, and the renamed stages unless a record made it to its name. */
function abandonPublish(c: Cluster, db: string, p: Publishing): void {
  if (p.temps) removeGroupTemps(p.temps);
  // A record that made it to its name is committed (the next lock holder applies it): keep its directories.
  if (!fs.existsSync(commitRecordFile(c, db))) for (const d of p.renamed) removeTree(d);
}

/** Past the commit point: the record makes the versions visible; applying it is idempotent. Then GC. */
function applyPublished(c: Cluster, db: string, p: Publishing): ChunkMeta[] {
  applyCommitLocked(c, db, recordOf(p), p.temps);
  // A chunk whose directory this process made, where the publish superseded nothing, has nothing
  // to collect: 4,000 readdirs of a many-shape restore's main thread.
  const collect = p.chunks.filter((k) => p.collect!.has(k.chunkId));
  if (!collect.length) return p.chunks;
  const pins = livePins(c);
  for (const k of collect) gcChunkLocked(c, db, k, pins);
  return p.chunks;
}

type SyncSets = (sets: SyncSet[]) => void | Promise<void>;

/**
 * Makes the renames durable (their parents; the renamed stages too unless the caller made them
 * durable already) and the chunk files' temps, in one group sync: the temps then need none of
 * their own, one syncfs fewer per group commit. A few parents of durable stages are fsynced one
 * by one instead (FSYNC_EACH_MAX), and the temps then take their own group sync.
 */
function syncPublished(p: Publishing, stagesDurable: boolean, all: SyncSets): void | Promise<void> {
  const parents = [...new Set(p.renamed.map((d) => path.dirname(d)))];
  const chunkFiles = { dirs: p.temps!.dirs, files: p.temps!.temps };
  if (stagesDurable && parents.length <= FSYNC_EACH_MAX) {
    syncEach(parents, []);
    return all([chunkFiles]);
  }
  return all([{ dirs: stagesDurable ? parents : [...p.renamed, ...parents], ...(p.anchors ? { anchors: p.anchors } : {}) }, chunkFiles]);
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
