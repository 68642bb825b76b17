import fs from 'node:fs';
import path from 'node:path';
import { generateQuotes } from '../../dist/generate/generate.js';
import { backup, listPoints, restoreDb } from '../../dist/engine/index.js';
import { Cluster, append, databaseDigest } from '../../dist/store/index.js';
import { scratchDir } from '../helpers/tmp.js';

export const DB = 'dfs://testdb';

/** Per-table content digests of a database (independent of name, cid and placement). */
export function digestOf(home: string, db: string): Record<string, string> {
  return Object.fromEntries(databaseDigest(new Cluster(home), db).map((d) => [d.table, d.digest]));
}

/** One quotes row into the bucket of `symbol` on 2012-01-01: changes exactly one partition. */
export function appendRow(home: string, symbol = 'S0001', price = 1.5): void {
  append(new Cluster(home), DB, 'quotes', { time: [Date.UTC(2012, 0, 1, 10)], symbol: [symbol], price: [price], volume: [100], side: ['B'], source: ['tp'] });
}

/** A tiny quotes cluster in work/h (8 partitions per database), backed up once into work/bak. */
export async function tinyBackedUp(work: string, repoFormat: 1 | 2 = 1): Promise<{ home: string; bak: string }> {
  const home = path.join(work, 'h');
  const bak = path.join(work, 'bak');
  await generateQuotes(home, { dates: 2, symbols: 4, rowsPerSymbol: 50, seed: 1, workers: 1 });
  await backup({ home, backupDir: bak, dbPath: DB, workers: 1, repoFormat });
  return { home, bak };
}

/**
 * Puts `work` back to the snapshot taken of it. The copy lands at the same path, so the absolute
 * volume paths in the cluster's configuration and catalog stay right.
 */
export function resetTo(snapshot: string, work: string): void {
  fs.rmSync(work, { recursive: true, force: true });
  fs.cpSync(snapshot, work, { recursive: true });
}

/** Restores the latest point (or `asOf`) into a fresh cluster home and returns the digest. */
export async function restoredDigest(bak: string, rhome: string, asOf?: string): Promise<Record<string, string>> {
  fs.rmSync(rhome, { recursive: true, force: true });
  await restoreDb({ home: rhome, backupDir: bak, dbPath: DB, workers: 1, ...(asOf ? { asOf } : {}) });
  return digestOf(rhome, DB);
}

export const pointIds = (bak: string) => listPoints(bak, DB).map((p) => p.pointId);

/**
 * The scene every fault sweep starts from: a tiny source backed up once, then one row appended and
 * not yet backed up (`before`/`after` are its digests), and a copy (`snap`) to reset `work` to.
 */
export async function sweepScene(tag: string): Promise<{ dir: string; work: string; snap: string; before: Record<string, string>; after: Record<string, string> }> {
  const dir = scratchDir(tag);
  const work = path.join(dir, 'work');
  const snap = path.join(dir, 'snap');
  const { home } = await tinyBackedUp(work);
  const before = digestOf(home, DB);
  appendRow(home);
  const after = digestOf(home, DB);
  fs.cpSync(work, snap, { recursive: true });
  return { dir, work, snap, before, after };
}
