import path from 'node:path';
import { backup } from '../../dist/engine/index.js';
import { Cluster, append, databaseDigest, loadChunks } from '../../dist/store/index.js';
import { smallQuotes } from './backup-helpers.js';

export { scratchDir } from '../helpers/tmp.js';

export const DB = 'dfs://testdb';
export const TSDB = 'dfs://testdb_tsdb';

/**
 * A source cluster with the small quotes databases, both backed up once into `bak`. The suites
 * that use it poke at the file-mirror layout, so the repository is v1 unless asked (later
 * backups into it stay v1: a repository keeps its format).
 */
export async function backedUpSource(dir: string, opts: { rowsPerSymbol?: number; repoFormat?: 1 | 2 } = {}) {
  const home = path.join(dir, 'src');
  const bak = path.join(dir, 'bak');
  await smallQuotes(home, opts);
  const repoFormat = opts.repoFormat ?? 1;
  await backup({ home, backupDir: bak, dbPath: DB, repoFormat });
  await backup({ home, backupDir: bak, dbPath: TSDB, repoFormat });
  return { home, bak };
}

/** Per-table content digests (independent of db name, cid, chunkId and placement). */
export function digests(home: string, db = DB): Record<string, string> {
  return Object.fromEntries(databaseDigest(new Cluster(home), db).map((d) => [d.table, d.digest]));
}

/** Digest of one partition's content, by path, or undefined if it holds no data for the table. */
export function partitionDigest(home: string, db: string, table: string, partPath: string) {
  const d = databaseDigest(new Cluster(home), db, table)[0]!;
  return d.partitions.find((p) => p.path === partPath);
}

export function tablePaths(home: string, db: string, table: string): string[] {
  return loadChunks(new Cluster(home), db)
    .filter((k) => k.tables[table])
    .map((k) => k.path);
}

/** Appends one quotes row: symbol picks the HASH bucket, day (of January 2012) the date partition. */
export function appendQuote(home: string, db: string, table: string, symbol: string, day = 1) {
  return append(new Cluster(home), db, table, { time: [Date.UTC(2012, 0, day, 10)], symbol: [symbol], price: [1.5], volume: [100], side: ['B'], source: ['tp'] });
}
