/** The catalog's records as they are stored (docs/FORMAT.md: database.json and chunks/<chunkId>.json). */
import type { Scheme } from './scheme.js';
import type { ColumnDef } from './types.js';

export type Engine = 'OLAP' | 'TSDB';

export interface TableDef {
  name: string;
  schema: ColumnDef[];
  partitionColumns: string[];
  sortColumns?: string[];
  /** DolphinDB's physical index: names the table's version directories `<table>_<n>_<cid>`. */
  physIndex: number;
}

export interface DatabaseDef {
  format: 1;
  dbPath: string;
  engine: Engine;
  scheme: Scheme;
  tables: Record<string, TableDef>;
  nextPhysIndex: number;
  created: string;
}

export interface FileEntry {
  name: string;
  size: number;
}

/** One committed version of one table's data in one chunk. */
export interface TableVersion {
  cid: number;
  /** Directory name inside the chunk directory: `<table>_<physIndex>_<cid>`. */
  version: string;
  rows: number;
  bytes: number;
  files: FileEntry[];
  updateTime: string;
  /** Where restored data came from, so a rerun can tell the target already holds it. */
  origin?: { chunkId: string; cid: number };
}

export interface ChunkMeta {
  chunkId: string;
  path: string;
  node: string;
  volume: string;
  tables: Record<string, TableVersion>;
}
