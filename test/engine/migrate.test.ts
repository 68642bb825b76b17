import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, restoreDb } from '../../dist/engine/index.js';
import { Cluster, hasDatabase } from '../../dist/store/index.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { scratchDir, DB, TSDB, backedUpSource, digests } from './helpers-restore.js';

let dir: string, src: string, bak: string;
type Row = { dbName: string; tableName: string; success: boolean; errorMsg: string };

beforeAll(async () => {
  dir = scratchDir('migrate');
  ({ home: src, bak } = await backedUpSource(dir));
});
afterAll(() => rmTmp(dir));

describe('migrate', () => {
  it('restores every database of a backup directory into a new cluster in one call', () => {
    const home = path.join(dir, 'new-cluster');
    const r = cliJson<{ rows: Row[]; partitions: number }>(['--home', home, 'migrate', bak]);
    expect(r.rows).toEqual([
      { dbName: DB, tableName: 'quotes', success: true, errorMsg: '' },
      { dbName: DB, tableName: 'quotes_2', success: true, errorMsg: '' },
      { dbName: TSDB, tableName: 'quotes_tsdb', success: true, errorMsg: '' },
    ]);
    expect(r.partitions).toBe(30);
    expect(digests(home, DB)).toEqual(digests(src, DB));
    expect(digests(home, TSDB)).toEqual(digests(src, TSDB));
  });

  it('plans each table with its partition count and reports the bytes it restores as the total', async () => {
    const plans: { dbName: string; tableName: string; total: number }[] = [];
    let last = { done: 0, total: 0 };
    const r = await migrate({
      home: path.join(dir, 'observed'),
      backupDir: bak,
      observer: { plan: (t) => void plans.push(...t), bytes: (done, total) => void (last = { done, total }) },
    });
    expect(plans.sort((a, b) => a.tableName.localeCompare(b.tableName))).toEqual([
      { dbName: DB, tableName: 'quotes', total: 10 },
      { dbName: DB, tableName: 'quotes_2', total: 10 },
      { dbName: TSDB, tableName: 'quotes_tsdb', total: 10 },
    ]);
    expect(r.bytes).toBeGreaterThan(0);
    expect(last).toEqual({ done: r.bytes, total: r.bytes });
  });

  it('starts the database with the fewest entries first, and plans each database as it starts', async () => {
    const calls: string[][] = [];
    await migrate({ home: path.join(dir, 'ordered'), backupDir: bak, observer: { plan: (t) => void calls.push(t.map((x) => `${x.dbName} ${x.tableName}`)) } });
    // TSDB has 10 entries, DB 20 (two tables of 10).
    expect(calls).toEqual([[`${TSDB} quotes_tsdb`], [`${DB} quotes`, `${DB} quotes_2`]]);
  });

  it('restores more databases than it copies at once, each equal to its source', async () => {
    const many = path.join(dir, 'three-bak');
    fs.cpSync(bak, many, { recursive: true });
    const side = path.join(dir, 'three-src');
    await restoreDb({ home: side, backupDir: bak, dbPath: DB, newDbPath: 'dfs://third' });
    cliJson(['--home', side, 'backup-db', many, 'dfs://third']);
    const home = path.join(dir, 'three');
    const r = cliJson<{ rows: Row[] }>(['--home', home, 'migrate', many]);
    expect(r.rows.filter((x) => !x.success)).toEqual([]);
    expect([...new Set(r.rows.map((x) => x.dbName))].sort()).toEqual([DB, TSDB, 'dfs://third'].sort());
    expect(digests(home, 'dfs://third')).toEqual(digests(src, DB));
    expect(digests(home, DB)).toEqual(digests(src, DB));
    expect(digests(home, TSDB)).toEqual(digests(src, TSDB));
  });

  it('reports success=false with an errorMsg for a target that exists, restores the others, and exits 10', async () => {
    const home = path.join(dir, 'half-full');
    await restoreDb({ home, backupDir: bak, dbPath: TSDB });
    const r = runCli(['--home', home, 'migrate', bak, '--json']);
    expect(r.code, r.stderr).toBe(10);
    const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows;
    expect(rows.filter((x) => x.success).map((x) => x.tableName)).toEqual(['quotes', 'quotes_2']);
    const refused = rows.find((x) => x.dbName === TSDB)!;
    expect(refused.success).toBe(false);
    expect(refused.errorMsg).toMatch(/database dfs:\/\/testdb_tsdb already exists/);
    expect(digests(home, DB)).toEqual(digests(src, DB));
  });

  it('migrates one table under a new database and table name, and refuses it the second time', async () => {
    const home = path.join(dir, 'one-table');
    const first = await migrate({ home, backupDir: bak, dbPath: DB, table: 'quotes_2', newDbPath: 'dfs://moved', newTable: 'q2' });
    expect(first.rows).toEqual([{ dbName: 'dfs://moved', tableName: 'q2', success: true, errorMsg: '' }]);
    expect(digests(home, 'dfs://moved')).toEqual({ q2: digests(src, DB).quotes_2 });
    const again = await migrate({ home, backupDir: bak, dbPath: DB, table: 'quotes_2', newDbPath: 'dfs://moved', newTable: 'q2' });
    expect(again.rows[0]!.success).toBe(false);
    expect(again.rows[0]!.errorMsg).toMatch(/table q2 already exists in dfs:\/\/moved/);
  });

  it('a point removed after migrate verified it fails that database\'s rows, creates nothing of it, and the others are migrated', async () => {
    const home = path.join(dir, 'vanished');
    const copy = path.join(dir, 'vanished-bak');
    fs.cpSync(bak, copy, { recursive: true });
    const points = path.join(copy, 'testdb', 'points');
    // TSDB (fewer entries) starts first; when it plans, DB's point was verified but not yet read.
    const plan = () => {
      for (const f of fs.readdirSync(points)) fs.rmSync(path.join(points, f));
    };
    const r = await migrate({ home, backupDir: copy, observer: { plan } });
    expect(r.rows.map((x) => [x.dbName, x.tableName, x.success])).toEqual([
      [DB, 'quotes', false],
      [DB, 'quotes_2', false],
      [TSDB, 'quotes_tsdb', true],
    ]);
    expect(r.rows[0]!.errorMsg).toMatch(/does not exist/);
    expect(hasDatabase(new Cluster(home), DB)).toBe(false);
    expect(digests(home, TSDB)).toEqual(digests(src, TSDB));
  });

  it('a database whose backup is unreadable becomes a failed row while the others are migrated', () => {
    const home = path.join(dir, 'damaged');
    const damaged = path.join(dir, 'damaged-bak');
    fs.cpSync(bak, damaged, { recursive: true });
    const points = path.join(damaged, 'testdb_tsdb', 'points');
    for (const f of fs.readdirSync(points)) fs.writeFileSync(path.join(points, f), '{ not json');
    const r = runCli(['--home', home, 'migrate', damaged, '--json']);
    expect(r.code, r.stderr).toBe(10);
    const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows;
    expect(rows.map((x) => [x.dbName, x.success])).toEqual([
      [DB, true],
      [DB, true],
      [TSDB, false],
    ]);
    expect(rows[2]!.errorMsg).toMatch(/not valid JSON/);
  });
});
