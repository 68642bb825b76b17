import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backup, listPoints, prune } from '../../dist/engine/index.js';
import { Cluster, append, dropPartition, loadChunks, partitionStats } from '../../dist/store/index.js';
import { hashFile, latestManifest, manifestContent, repoDir, smallQuotes } from './backup-helpers.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

const DB = 'dfs://testdb';
let dir: string, home: string, bak: string;

beforeEach(async () => {
  dir = tmpDir('backup');
  home = path.join(dir, 'home');
  bak = path.join(dir, 'bak');
  await smallQuotes(home);
});
afterEach(() => rmTmp(dir));

/** One row for table quotes in partition /Key?/tp/20120101 of the given symbol. */
function appendOne(symbol: string, table = 'quotes') {
  return append(new Cluster(home), DB, table, { time: [Date.UTC(2012, 0, 1, 10)], symbol: [symbol], price: [1.5], volume: [100], side: ['B'], source: ['tp'] });
}

describe('backup', () => {
  it('copies every partition of every table on the first run and records their checksums (v1 layout: one file per column file)', async () => {
    const res = await backup({ home, backupDir: bak, dbPath: DB, repoFormat: 1 });
    expect(res.partitions).toBe(20); // 10 partitions x 2 tables
    expect(res.skipped).toBe(0);
    expect(res.copyMethod).toBe('stream');
    const m = latestManifest(bak, DB);
    const stats = partitionStats(new Cluster(home), DB);
    expect(m.partitions.flatMap((p) => Object.keys(p.tables)).length).toBe(stats.length);
    for (const p of m.partitions)
      for (const [t, e] of Object.entries(p.tables))
        for (const f of e.files) {
          const file = path.join(repoDir(bak, DB), 'data', p.chunkId, t, String(e.cid), f.name);
          expect(fs.statSync(file).size).toBe(f.size);
          expect(hashFile(file)).toBe(f.xxh3);
        }
  });

  it('a no-change backup copies 0 bytes and still commits a new restore point', async () => {
    await backup({ home, backupDir: bak, dbPath: DB });
    const res = await backup({ home, backupDir: bak, dbPath: DB });
    expect(res.bytesCopied).toBe(0);
    expect(res.partitions).toBe(0);
    expect(res.skipped).toBe(20);
    expect(listPoints(bak, DB)).toHaveLength(2);
  });

  it('after an append to one partition the next backup copies exactly that partition of that table', async () => {
    await backup({ home, backupDir: bak, dbPath: DB });
    const { partitions } = appendOne('S00003');
    const res = await backup({ home, backupDir: bak, dbPath: DB });
    expect(res.partitions).toBe(1);
    const m = latestManifest(bak, DB);
    const chunk = loadChunks(new Cluster(home), DB).find((k) => k.path === partitions[0])!;
    expect(m.partitions.find((p) => p.path === partitions[0])!.tables.quotes!.cid).toBe(chunk.tables.quotes!.cid);
  });

  it('--force copies everything again', async () => {
    await backup({ home, backupDir: bak, dbPath: DB });
    const res = await backup({ home, backupDir: bak, dbPath: DB, force: true });
    expect(res.partitions).toBe(20);
    expect(res.skipped).toBe(0);
  });

  it('a dropped partition leaves the new restore point but stays in older ones', async () => {
    await backup({ home, backupDir: bak, dbPath: DB });
    dropPartition(new Cluster(home), DB, '/Key0/tp/20120101');
    const res = await backup({ home, backupDir: bak, dbPath: DB });
    expect(res.dropped).toBe(2);
    const [first, second] = listPoints(bak, DB);
    expect(first!.partitions).toBe(10);
    expect(second!.partitions).toBe(9);
    expect(latestManifest(bak, DB).partitions.some((p) => p.path === '/Key0/tp/20120101')).toBe(false);
  });

  it('--keep-dropped keeps a dropped partition in the new restore point', async () => {
    await backup({ home, backupDir: bak, dbPath: DB });
    dropPartition(new Cluster(home), DB, '/Key0/tp/20120101');
    const res = await backup({ home, backupDir: bak, dbPath: DB, keepDropped: true });
    expect(res.dropped).toBe(0);
    expect(latestManifest(bak, DB).partitions.some((p) => p.path === '/Key0/tp/20120101')).toBe(true);
  });

  it('backing up one table and one partition carries the rest of the previous point over', async () => {
    await backup({ home, backupDir: bak, dbPath: DB });
    const before = manifestContent(latestManifest(bak, DB));
    const res = await backup({ home, backupDir: bak, dbPath: DB, tables: ['quotes_2'], partitions: ['/Key4/tp/20120102'], force: true });
    expect(res.partitions).toBe(1);
    expect(manifestContent(latestManifest(bak, DB))).toEqual(before);
  });

  it('an append after the backup pinned its snapshot succeeds at once and the restore point holds the pre-append data', async () => {
    const before = partitionStats(new Cluster(home), DB, 'quotes');
    let appended: ReturnType<typeof appendOne> | undefined;
    let appendMs = 0;
    await backup({
      home,
      backupDir: bak,
      dbPath: DB,
      observer: {
        // plan() runs after the snapshot is pinned and before any byte is copied.
        plan() {
          const t0 = Date.now();
          appended = appendOne('S00003');
          appendMs = Date.now() - t0;
        },
      },
    });
    expect(appended!.rows).toBe(1);
    expect(appendMs).toBeLessThan(5_000);
    const target = appended!.partitions[0]!;
    const old = before.find((s) => s.path === target)!;
    const entry = latestManifest(bak, DB).partitions.find((p) => p.path === target)!.tables.quotes!;
    expect(entry.cid).toBe(old.cid);
    expect(entry.rows).toBe(old.rows);
    expect(partitionStats(new Cluster(home), DB, 'quotes').find((s) => s.path === target)!.rows).toBe(old.rows + 1);
  });

  it('prune keeps the newest points and removes data only they no longer reference (v1 layout)', async () => {
    await backup({ home, backupDir: bak, dbPath: DB, repoFormat: 1 });
    appendOne('S00003');
    await backup({ home, backupDir: bak, dbPath: DB });
    const res = prune(bak, DB, 1);
    expect(res.removedPoints).toHaveLength(1);
    expect(res.removedDataDirs).toBe(1); // the superseded version of the appended partition
    const m = latestManifest(bak, DB);
    for (const p of m.partitions)
      for (const [t, e] of Object.entries(p.tables)) expect(fs.existsSync(path.join(repoDir(bak, DB), 'data', p.chunkId, t, String(e.cid)))).toBe(true);
  });
});
