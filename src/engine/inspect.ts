import { notFound } from '../common/errors.js';
import { dbNameOf, TYPES, type TableDef } from '../store/index.js';
import type { Manifest, ManifestHead, ManifestPartition } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import type { PasswordSource } from '../repo/config.js';

/**
 * DolphinDB names a table's tablet in a chunk by its physical index as letters ("gA" for the
 * first table, "gB" for the second, ..., "gZ", "gBA"). chunkPath (list, check) and dfsPath (meta)
 * are the same string: `/<dbName><partition path>/<that name>`, e.g. /testdb/Key0/tp/20120101/gA.
 */
export function physName(physIndex: number): string {
  let n = Math.max(0, Math.floor(physIndex));
  let s = '';
  do {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return 'g' + s;
}

export function chunkPathOf(dbPath: string, partitionPath: string, t: Pick<TableDef, 'physIndex'>): string {
  return chunkPaths(dbPath, t)(partitionPath);
}

/** chunkPathOf for many partitions of one table: the names are worked out once. */
function chunkPaths(dbPath: string, t: Pick<TableDef, 'physIndex'>): (partitionPath: string) => string {
  const [db, tablet] = [`/${dbNameOf(dbPath)}`, `/${physName(t.physIndex)}`];
  return (partitionPath) => db + partitionPath + tablet;
}

export interface BackupListRow {
  chunkID: string;
  chunkPath: string;
  cid: number;
  rows: number;
  updateTime: string;
}

function openPoint(backupDir: string, dbPath: string, asOf?: string, password?: PasswordSource): Manifest {
  return Repository.open(backupDir, dbPath, false, undefined, password ? { password } : {}).point(asOf);
}

function tableIn(m: ManifestHead, table: string): TableDef {
  const t = m.tables[table];
  if (!t) throw notFound(`table ${table} is not in restore point ${m.pointId} of ${m.dbPath} (tables: ${Object.keys(m.tables).join(', ') || 'none'})`);
  return t;
}

/** getBackupList: one row per partition of the table in the latest (or --as-of) restore point. */
export function getBackupList(backupDir: string, dbPath: string, table: string, asOf?: string, password?: PasswordSource): BackupListRow[] {
  const repo = Repository.open(backupDir, dbPath, false, undefined, password ? { password } : {});
  // One pass, one row per partition: the point's file lists are never held. The row holds the
  // partition's path until the table's definition (in the head) makes it the chunk path.
  const { head, picked } = repo.pickPoint<BackupListRow>(asOf, (p) => {
    const e = Object.hasOwn(p.tables, table) ? p.tables[table] : undefined;
    return e && { chunkID: p.chunkId, chunkPath: p.path, cid: e.cid, rows: e.rows, updateTime: e.updateTime };
  });
  const chunkPath = chunkPaths(dbPath, tableIn(head, table));
  for (const r of picked) r.chunkPath = chunkPath(r.chunkPath);
  return picked;
}

export interface SchemaRow {
  name: string;
  typeString: string;
  typeInt: number;
  /** DolphinDB's scale of DECIMAL columns; no type here has one. */
  extra: number | null;
  comment: string;
}

export interface BackupMeta {
  schema: SchemaRow[];
  dfsPath: string;
  rows: number;
  chunkID: string;
  cid: number;
  /** Beyond DolphinDB: which point, the partition path, and the files with their sizes and checksums. */
  pointId: string;
  partitionPath: string;
  updateTime: string;
  files: { name: string; size: number; xxh3: string }[];
}

/**
 * Finds a partition by its path relative to the database (/Key0/tp/20120101) or, as DolphinDB's
 * dfs paths and restore patterns write it, with the database name in front (/testdb/Key0/tp/20120101).
 */
function findPartition(m: Manifest, dbPath: string, partition: string): ManifestPartition | undefined {
  const exact = m.partitions.find((p) => p.path === partition);
  if (exact) return exact;
  const prefix = `/${dbNameOf(dbPath)}`;
  if (partition.startsWith(prefix + '/')) return m.partitions.find((p) => p.path === partition.slice(prefix.length));
  return undefined;
}

/** getBackupMeta: schema, dfsPath, rows, chunkID and cid of one table in one backed-up partition. */
export function getBackupMeta(backupDir: string, dbPath: string, partition: string, table: string, asOf?: string, password?: PasswordSource): BackupMeta {
  const m = openPoint(backupDir, dbPath, asOf, password);
  const t = tableIn(m, table);
  const p = findPartition(m, dbPath, partition);
  if (!p) throw notFound(`partition ${partition} is not in restore point ${m.pointId} of ${dbPath}`);
  const e = p.tables[table];
  if (!e) throw notFound(`table ${table} has no data in partition ${p.path} of restore point ${m.pointId}`);
  return {
    schema: t.schema.map((c) => ({ name: c.name, typeString: c.type, typeInt: TYPES[c.type]?.id ?? -1, extra: null, comment: c.comment ?? '' })),
    dfsPath: chunkPathOf(dbPath, p.path, t),
    rows: e.rows,
    chunkID: p.chunkId,
    cid: e.cid,
    pointId: m.pointId,
    partitionPath: p.path,
    updateTime: e.updateTime,
    files: e.files.map((f) => ({ name: f.name, size: f.size, xxh3: f.xxh3 })),
  };
}
