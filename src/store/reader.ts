import path from 'node:path';
import { notFound } from '../common/errors.js';
import { Cluster, loadChunks, loadDatabase, tableOf, type ChunkMeta, type DatabaseDef, type TableDef } from './catalog.js';
import { concatVectors } from './codec.js';
import { readOlapFiles } from './olap-format.js';
import { parsePartitionPath } from './scheme.js';
import { readTsdbFiles } from './tsdb-format.js';
import type { Columns } from './types.js';

/** Reads one committed table version directory. */
export function readVersionDir(dir: string, def: DatabaseDef, t: TableDef): Columns {
  return def.engine === 'OLAP' ? readOlapFiles(dir, t.schema) : readTsdbFiles(dir, t.schema, t.sortColumns ?? []);
}

export function readPartition(c: Cluster, dbPath: string, table: string, partition: string): { rows: number; cols: Columns } {
  const def = loadDatabase(c, dbPath);
  const t = tableOf(def, table);
  const p = parsePartitionPath(def.scheme, partition);
  const chunk = loadChunks(c, dbPath).find((k) => k.path === p);
  const v = chunk?.tables[table];
  if (!chunk || !v) throw notFound(`partition ${p} of ${dbPath} has no data for table ${table}`);
  return { rows: v.rows, cols: readVersionDir(path.join(c.chunkDir(chunk, dbPath), v.version), def, t) };
}

/** Reads every row of a table, partitions in path order. Meant for tests and small tables. */
export function readTable(c: Cluster, dbPath: string, table: string): { rows: number; cols: Columns } {
  const def = loadDatabase(c, dbPath);
  const t = tableOf(def, table);
  const parts = loadChunks(c, dbPath)
    .filter((k) => k.tables[table])
    .map((k) => readVersionDir(path.join(c.chunkDir(k, dbPath), k.tables[table]!.version), def, t));
  const cols: Columns = {};
  for (const col of t.schema) cols[col.name] = concatVectors(col.type, parts.map((p) => p[col.name]!));
  const rows = loadChunks(c, dbPath).reduce((a, k) => a + (k.tables[table]?.rows ?? 0), 0);
  return { rows, cols };
}

export interface PartitionStat {
  path: string;
  chunkId: string;
  node: string;
  volume: string;
  table: string;
  cid: number;
  rows: number;
  bytes: number;
  updateTime: string;
}

export function partitionStats(c: Cluster, dbPath: string, table?: string): PartitionStat[] {
  const def = loadDatabase(c, dbPath);
  if (table) tableOf(def, table);
  return loadChunks(c, dbPath).flatMap((k: ChunkMeta) =>
    Object.entries(k.tables)
      .filter(([name]) => !table || name === table)
      .map(([name, v]) => ({ path: k.path, chunkId: k.chunkId, node: k.node, volume: k.volume, table: name, cid: v.cid, rows: v.rows, bytes: v.bytes, updateTime: v.updateTime })),
  );
}
