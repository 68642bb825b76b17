import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xxhash from '@node-rs/xxhash';
import { generateQuotes } from '../../dist/generate/generate.js';
import { Repository, readManifest, type Manifest } from '../../dist/engine/index.js';
import { sealJson } from '../../dist/repo/sealed-json.js';

/** A small quotes cluster: 2 dates x 5 buckets = 10 partitions per table, three tables. */
export async function smallQuotes(home: string, opts: { seed?: number; rowsPerSymbol?: number } = {}) {
  return generateQuotes(home, { dates: 2, symbols: 20, rowsPerSymbol: opts.rowsPerSymbol ?? 200, seed: opts.seed ?? 1, workers: 1 });
}

export function latestManifest(backupDir: string, db: string): Manifest {
  const repo = Repository.open(backupDir, db, false);
  return readManifest(repo.dir, repo.points().at(-1)!);
}

/** A manifest's content without times and ids, for comparing what two runs captured. */
export function manifestContent(m: Manifest) {
  return m.partitions.map((p) => ({ path: p.path, chunkId: p.chunkId, tables: Object.fromEntries(Object.entries(p.tables).map(([t, e]) => [t, { cid: e.cid, rows: e.rows, files: e.files }])) }));
}

export function hashFile(file: string): string {
  const h = xxhash.xxh3.Xxh3.withSeed(0n);
  h.update(fs.readFileSync(file));
  return h.digest().toString(16).padStart(16, '0');
}

export const repoDir = (backupDir: string, db: string) => path.join(backupDir, db.replace('dfs://', ''));

/**
 * Edits a restore point's file in place. `reseal` recomputes its checksum afterwards, as an attacker
 * who knows the format would, so that the checks behind the checksum are what is tested.
 */
export function editPoint(file: string, edit: (m: any) => void, reseal: boolean): void {
  const { checksum: _old, ...m } = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(m);
  fs.writeFileSync(file, reseal ? sealJson(m) : JSON.stringify({ ...m, checksum: _old }));
}

/** A lock on `db`'s repository in `bak` held by this (live) test process, as a running backup would hold it. */
export function holdLock(bak: string, db: string): void {
  const repo = repoDir(bak, db);
  fs.mkdirSync(repo, { recursive: true });
  if (!fs.existsSync(path.join(repo, 'repo.json'))) fs.writeFileSync(path.join(repo, 'repo.json'), sealJson({ format: 2, dbPath: db }));
  fs.writeFileSync(path.join(repo, 'lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString(), holder: 'job test' }));
}
