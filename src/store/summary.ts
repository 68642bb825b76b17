import { loadChunks, loadDatabase, type Cluster, type Engine } from './catalog.js';

/** One database at a glance: what `db list` shows. */
export interface DatabaseSummary {
  dbPath: string;
  engine: Engine;
  tables: string[];
  /** Chunks (leaf partitions) placed, with or without data. */
  partitions: number;
  /** Bytes of every table's current version in every chunk. */
  bytes: number;
}

/** Sums the chunk metadata here, so callers above the store never read it raw. */
export function databaseSummary(c: Cluster, dbPath: string): DatabaseSummary {
  const def = loadDatabase(c, dbPath);
  const chunks = loadChunks(c, dbPath);
  const bytes = chunks.reduce((a, k) => a + Object.values(k.tables).reduce((b, t) => b + t.bytes, 0), 0);
  return { dbPath, engine: def.engine, tables: Object.keys(def.tables), partitions: chunks.length, bytes };
}
