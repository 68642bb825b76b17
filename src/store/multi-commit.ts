import fs from 'node:fs';
import path from 'node:path';
import { conflict } from '../common/errors.js';
import { writeJsonAtomic } from '../common/durable.js';
import { removeTree, renamePath, syncDir } from '../common/fsio.js';
import { applyCommitLocked, commitRecordFile, loadChunks, loadDatabase, nextCids, tableOf, type ChunkMeta, type Cluster, type CommitRecord, type DatabaseDef, type FileEntry } from './catalog.js';
import { gcChunkLocked } from './mvcc.js';
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
 * Publishes every stage: check the bases, allocate the cids in one write, rename each stage to
 * its version directory (fsynced), write the commit record (the commit point), apply it to
 * database.json and the chunk files, remove it, then GC. Before the commit point a failure leaves
 * the catalog as it was (renamed directories are removed, or GC removes them as unreferenced).
 */
export function commitPartsLocked(c: Cluster, db: string, table: string, physIndex: number, parts: StagedPart[], newValues: ReadonlyMap<number, Iterable<string | number>>): ChunkMeta[] {
  const def: DatabaseDef = loadDatabase(c, db);
  if (tableOf(def, table).physIndex !== physIndex) throw conflict(`table ${table} of ${db} was dropped and created again during the load; nothing was loaded`);
  const byPath = checkBases(c, db, table, parts);
  const grew = extendValueLevels(def.scheme, newValues);
  const cid0 = nextCids(c, db, parts.length);
  const renamed: string[] = [];
  const chunks: ChunkMeta[] = [];
  try {
    parts.forEach((p, i) => {
      const cid = cid0 + i;
      const version = `${table}_${physIndex}_${cid}`;
      const chunkDir = c.chunkDir(p.chunk, db);
      syncDir(p.dir);
      renamePath(p.dir, path.join(chunkDir, version));
      renamed.push(path.join(chunkDir, version));
      syncDir(chunkDir);
      const base = byPath.get(p.chunk.path) ?? p.chunk;
      const bytes = p.files.reduce((a, f) => a + f.size, 0);
      chunks.push({ ...base, tables: { ...base.tables, [table]: { cid, version, rows: p.rows, bytes, files: p.files, updateTime: new Date().toISOString() } } });
    });
    const rec: CommitRecord = { format: 1, ...(grew ? { def } : {}), chunks };
    writeJsonAtomic(commitRecordFile(c, db), rec);
  } catch (err) {
    // A record that made it to its name is committed (the next lock holder applies it): keep its directories.
    if (!fs.existsSync(commitRecordFile(c, db))) for (const d of renamed) removeTree(d);
    throw err;
  }
  // Past the commit point: the record makes the load visible; applying it is idempotent.
  applyCommitLocked(c, db, { format: 1, ...(grew ? { def } : {}), chunks });
  for (const k of chunks) gcChunkLocked(c, db, k);
  return chunks;
}
