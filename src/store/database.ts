import fs from 'node:fs';
import path from 'node:path';
import { conflict, notFound, usage } from '../common/errors.js';
import { makeDirs, removeEmptyDir, removeFile, removeTree, syncDir } from '../common/fsio.js';
import { indexNewDatabase } from './chunk-summaries.js';
import { Cluster, dbNameOf, hasDatabase, loadChunks, loadDatabase, nextCid, saveChunk, saveDatabase, tableOf, type DatabaseDef, type Engine, type TableDef } from './catalog.js';
import { dropChunkLocked, gcChunkLocked, livePins, removeUnpinnedTree } from './mvcc.js';
import { extendValueLevels, levelsOf, parsePartitionPath, validateScheme, type Scheme } from './scheme.js';
import { TYPES, type ColumnDef } from './types.js';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function createDatabase(c: Cluster, dbPath: string, engine: Engine, scheme: Scheme): DatabaseDef {
  dbNameOf(dbPath);
  if (engine !== 'OLAP' && engine !== 'TSDB') throw usage(`bad engine "${engine}": expected OLAP or TSDB`);
  validateScheme(scheme);
  return c.withHomeLock(() => {
    if (hasDatabase(c, dbPath)) throw conflict(`database ${dbPath} already exists`);
    const def: DatabaseDef = { format: 1, dbPath, engine, scheme, tables: {}, nextPhysIndex: 0, created: new Date().toISOString() };
    makeDirs(path.join(c.dbDir(dbPath), 'chunks'));
    indexNewDatabase(c, dbPath);
    saveDatabase(c, def);
    return def;
  });
}

export interface TableSpec {
  name: string;
  schema: ColumnDef[];
  partitionColumns: string[];
  sortColumns?: string[];
}

export function validateTableSpec(def: DatabaseDef, spec: TableSpec): void {
  if (!NAME_RE.test(spec.name)) throw usage(`bad table name "${spec.name}"`);
  if (!spec.schema.length) throw usage(`table ${spec.name} needs at least one column`);
  const names = new Set<string>();
  for (const col of spec.schema) {
    if (!NAME_RE.test(col.name)) throw usage(`bad column name "${col.name}"`);
    if (!(col.type in TYPES)) throw usage(`bad type ${col.type} for column ${col.name}`);
    if (names.has(col.name)) throw usage(`duplicate column ${col.name}`);
    names.add(col.name);
  }
  const levels = levelsOf(def.scheme);
  if (spec.partitionColumns.length !== levels.length)
    throw usage(`table ${spec.name}: the scheme has ${levels.length} level(s) but ${spec.partitionColumns.length} partition column(s) were given`);
  for (const pc of spec.partitionColumns) if (!names.has(pc)) throw usage(`partition column ${pc} is not in the schema`);
  if (def.engine === 'TSDB') {
    if (!spec.sortColumns?.length) throw usage(`TSDB table ${spec.name} needs sortColumns`);
    for (const sc of spec.sortColumns) if (!names.has(sc)) throw usage(`sort column ${sc} is not in the schema`);
  } else if (spec.sortColumns?.length) throw usage('sortColumns are only for TSDB databases');
}

export function createPartitionedTable(c: Cluster, dbPath: string, spec: TableSpec): TableDef {
  return c.withDbLock(dbPath, () => {
    const def = loadDatabase(c, dbPath);
    if (def.tables[spec.name]) throw conflict(`table ${spec.name} already exists in ${dbPath}`);
    validateTableSpec(def, spec);
    const t: TableDef = {
      name: spec.name,
      schema: spec.schema.map((s) => ({ ...s })),
      partitionColumns: [...spec.partitionColumns],
      ...(spec.sortColumns ? { sortColumns: [...spec.sortColumns] } : {}),
      physIndex: def.nextPhysIndex++,
    };
    def.tables[spec.name] = t;
    saveDatabase(c, def);
    return t;
  });
}

/**
 * Adds partitions to the scheme's VALUE levels (level index -> values; values already there are
 * skipped), under the database lock: how a restore makes room for a backup's partitions.
 */
export function addValuePartitions(c: Cluster, dbPath: string, additions: ReadonlyMap<number, Iterable<string | number>>): void {
  c.withDbLock(dbPath, () => {
    const def = loadDatabase(c, dbPath);
    if (extendValueLevels(def.scheme, additions)) saveDatabase(c, def);
  });
}

export function dropTable(c: Cluster, dbPath: string, table: string): void {
  c.withDbLock(dbPath, () => {
    const def = loadDatabase(c, dbPath);
    tableOf(def, table);
    // A drop takes a commit id too: pins released later see that versions went (changeMarker).
    // Taken first, so the change log's lines carry the new marker (chunk-index.ts).
    nextCid(c, dbPath);
    for (const chunk of loadChunks(c, dbPath)) {
      if (!chunk.tables[table]) continue;
      delete chunk.tables[table];
      saveChunk(c, dbPath, chunk);
      gcChunkLocked(c, dbPath, chunk);
    }
    delete def.tables[table];
    saveDatabase(c, def);
  });
}

/** Drops one partition (all tables' data), or one table's data in it when table is given. */
export function dropPartition(c: Cluster, dbPath: string, partition: string, table?: string): void {
  c.withDbLock(dbPath, () => {
    const def = loadDatabase(c, dbPath);
    const p = parsePartitionPath(def.scheme, partition);
    if (table) tableOf(def, table);
    const chunk = loadChunks(c, dbPath).find((k) => k.path === p);
    if (!chunk) throw notFound(`partition ${p} does not exist in ${dbPath}`);
    if (table && !chunk.tables[table]) throw notFound(`table ${table} has no data in partition ${p}`);
    nextCid(c, dbPath);
    if (table) {
      delete chunk.tables[table];
      saveChunk(c, dbPath, chunk);
      gcChunkLocked(c, dbPath, chunk);
    } else dropChunkLocked(c, dbPath, chunk);
  });
}

export function dropDatabase(c: Cluster, dbPath: string): void {
  c.withHomeLock(() =>
    c.withDbLock(dbPath, () => {
      loadDatabase(c, dbPath);
      // Unlinking database.json first makes the drop atomic for readers; the rest is cleanup.
      removeFile(path.join(c.dbDir(dbPath), 'database.json'));
      syncDir(c.dbDir(dbPath));
      removeTree(c.dbDir(dbPath));
      const pins = livePins(c);
      for (const v of c.volumes) {
        const root = path.join(v.path, 'CHUNKS', dbNameOf(dbPath));
        for (const dir of leafDirs(root)) removeUnpinnedTree(dir, pins);
        pruneEmptyDirs(root);
      }
    }),
  );
}

/** Chunk directories: the directories whose children are version directories (contain files). */
function leafDirs(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    const subs = fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory());
    const hasFiles = subs.some((s) => fs.readdirSync(path.join(d, s.name), { withFileTypes: true }).some((e) => e.isFile()));
    if (hasFiles) out.push(d);
    else for (const s of subs) walk(path.join(d, s.name));
  };
  walk(root);
  return out;
}

function pruneEmptyDirs(d: string): boolean {
  if (!fs.existsSync(d)) return true;
  const empty = fs.readdirSync(d, { withFileTypes: true }).every((e) => e.isDirectory() && pruneEmptyDirs(path.join(d, e.name)));
  if (empty) removeEmptyDir(d);
  return empty;
}
