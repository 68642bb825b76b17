import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restore, restoreDb, restoreTable } from '../../dist/engine/index.js';
import { Cluster, createDatabase, createPartitionedTable, initCluster, loadDatabase, type Scheme } from '../../dist/store/index.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { scratchDir, DB, TSDB, appendQuote, backedUpSource, digests, tablePaths } from './helpers-restore.js';

let dir: string, src: string, bak: string;
let srcDigests: Record<string, string>;
let n = 0;
/** A new, not yet existing cluster home for one test. */
const freshHome = () => path.join(dir, `target${n++}`);

beforeAll(async () => {
  dir = scratchDir('restore');
  ({ home: src, bak } = await backedUpSource(dir));
  srcDigests = digests(src);
});
afterAll(() => rmTmp(dir));

type CliRestore = { partitions: number; skipped: number; deleted: number; restoredPaths: string[]; tables: { dbName: string; tableName: string }[]; mbPerSec: number; bytes: number };

describe('restore-db and restore-table', () => {
  it('restore-db into a fresh cluster home gives the source digest', () => {
    const home = freshHome();
    const r = cliJson<CliRestore>(['--home', home, 'restore-db', bak, DB]);
    expect(r.tables).toEqual([{ dbName: DB, tableName: 'quotes' }, { dbName: DB, tableName: 'quotes_2' }]);
    expect(r.partitions).toBe(20);
    expect(r.bytes).toBeGreaterThan(0);
    expect(digests(home)).toEqual(srcDigests);
    expect(loadDatabase(new Cluster(home), DB).engine).toBe('OLAP');
  });

  it('restore-db into dfs://restoredb in the same cluster gives the source digest', () => {
    const r = cliJson<CliRestore>(['--home', src, 'restore-db', bak, DB, 'dfs://restoredb']);
    expect(r.tables.map((t) => t.dbName)).toEqual(['dfs://restoredb', 'dfs://restoredb']);
    expect(digests(src, 'dfs://restoredb')).toEqual(srcDigests);
  });

  it('restore-table into quotes_restore creates that table with the content of the backed-up table', async () => {
    const home = freshHome();
    await restoreDb({ home, backupDir: bak, dbPath: DB });
    const r = cliJson<CliRestore>(['--home', home, 'restore-table', bak, DB, 'quotes_2', DB, 'quotes_restore']);
    expect(r.tables).toEqual([{ dbName: DB, tableName: 'quotes_restore' }]);
    expect(digests(home).quotes_restore).toBe(srcDigests.quotes_2);
  });

  it('restore-db of the TSDB database keeps engine and sort columns', async () => {
    const home = freshHome();
    await restoreDb({ home, backupDir: bak, dbPath: TSDB });
    expect(digests(home, TSDB)).toEqual(digests(src, TSDB));
    expect(loadDatabase(new Cluster(home), TSDB).tables.quotes_tsdb!.sortColumns).toEqual(['symbol', 'time']);
  });

  it('a non-empty directory that is not a cluster home is refused, not turned into one', () => {
    const home = freshHome();
    fs.mkdirSync(home);
    fs.writeFileSync(path.join(home, 'notes.txt'), 'x');
    const r = runCli(['--home', home, 'restore-db', bak, DB]);
    expect(r.code, r.stderr).toBe(3);
    expect(fs.readdirSync(home)).toEqual(['notes.txt']);
  });
});

describe('restore (partitions by pattern)', () => {
  it('%/Key4/tp/% restores only the Key4 partitions', () => {
    const home = freshHome();
    const r = cliJson<CliRestore>(['--home', home, 'restore', bak, DB, 'quotes', '%/Key4/tp/%']);
    expect(r.restoredPaths).toEqual(['/testdb/Key4/tp/20120101', '/testdb/Key4/tp/20120102']);
    expect(tablePaths(home, DB, 'quotes')).toEqual(['/Key4/tp/20120101', '/Key4/tp/20120102']);
    expect(tablePaths(home, DB, 'quotes_2')).toEqual([]);
  });

  it('a second identical restore restores 0 partitions', async () => {
    const home = freshHome();
    const first = await restore({ home, backupDir: bak, dbPath: DB, table: 'quotes', pattern: '%' });
    expect(first.partitions).toBe(10);
    const second = await restore({ home, backupDir: bak, dbPath: DB, table: 'quotes', pattern: '%' });
    expect(second.partitions).toBe(0);
    expect(second.skipped).toBe(10);
    expect(second.restoredPaths).toEqual([]);
  });

  it('restoring into the backed-up database itself copies nothing while its data is unchanged', async () => {
    const r = await restore({ home: src, backupDir: bak, dbPath: DB, table: 'quotes', pattern: '%' });
    expect(r.partitions).toBe(0);
    expect(r.skipped).toBe(10);
  });

  it('after an append to one target partition only that partition is restored', async () => {
    const home = freshHome();
    await restoreDb({ home, backupDir: bak, dbPath: DB });
    const { partitions } = appendQuote(home, DB, 'quotes', 'S00003');
    expect(digests(home).quotes).not.toBe(srcDigests.quotes);
    const r = await restore({ home, backupDir: bak, dbPath: DB, table: 'quotes', pattern: '%' });
    expect(r.partitions).toBe(1);
    expect(r.restoredPaths).toEqual([`/testdb${partitions[0]}`]);
    expect(digests(home)).toEqual(srcDigests);
  });

  it('--force copies every matching partition again', async () => {
    const home = freshHome();
    await restoreDb({ home, backupDir: bak, dbPath: DB });
    const r = await restore({ home, backupDir: bak, dbPath: DB, table: 'quotes', pattern: '%/Key1/%', force: true });
    expect(r.partitions).toBe(2);
    expect(digests(home)).toEqual(srcDigests);
  });

  it('with % an extra target partition is deleted, and kept with --keep-extra', async () => {
    const home = freshHome();
    await restoreDb({ home, backupDir: bak, dbPath: DB });
    const { partitions } = appendQuote(home, DB, 'quotes', 'S00001', 20); // 2012.01.20: a date the backup lacks
    const kept = cliJson<CliRestore>(['--home', home, 'restore', bak, DB, 'quotes', '%', '--keep-extra']);
    expect(kept.deleted).toBe(0);
    expect(tablePaths(home, DB, 'quotes')).toContain(partitions[0]);
    const pattern = await restore({ home, backupDir: bak, dbPath: DB, table: 'quotes', pattern: '%/Key1/%' });
    expect(pattern.deleted).toBe(0); // only % deletes
    const snap = cliJson<CliRestore>(['--home', home, 'restore', bak, DB, 'quotes', '%']);
    expect(snap.deleted).toBe(1);
    expect(tablePaths(home, DB, 'quotes')).not.toContain(partitions[0]);
    expect(digests(home)).toEqual(srcDigests);
  });

  it('--output-table restores into another existing table of the same schema', async () => {
    const home = freshHome();
    await restoreDb({ home, backupDir: bak, dbPath: DB });
    const r = cliJson<CliRestore>(['--home', home, 'restore', bak, DB, 'quotes', '%', '--output-table', 'quotes_2']);
    expect(r.tables).toEqual([{ dbName: DB, tableName: 'quotes_2' }]);
    expect(r.partitions).toBe(10); // quotes_2's live versions came from quotes_2, not from quotes
    expect(digests(home).quotes_2).toBe(srcDigests.quotes);
  });

  it('a pattern that matches no partition fails with NOT_FOUND and changes nothing', () => {
    const home = freshHome();
    const r = runCli(['--home', home, 'restore', bak, DB, 'quotes', '/testdb/Key9/%']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.errLines).toHaveLength(1);
    expect(fs.existsSync(home)).toBe(false);
  });
});

describe('compatibility', () => {
  it('an engine mismatch is refused with CONFLICT', () => {
    const r = runCli(['--home', src, 'restore-table', bak, DB, 'quotes', TSDB]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.errLines).toEqual(['chunkvault: engine mismatch: the backup of dfs://testdb is OLAP, target dfs://testdb_tsdb is TSDB']);
  });

  it('a partition scheme mismatch (HASH buckets) is refused with CONFLICT', () => {
    const home = freshHome();
    initCluster(home);
    const scheme = structuredClone(loadDatabase(new Cluster(src), DB).scheme) as Extract<Scheme, { type: 'COMPO' }>;
    scheme.levels[0] = { type: 'HASH', colType: 'SYMBOL', buckets: 3 };
    createDatabase(new Cluster(home), DB, 'OLAP', scheme);
    const r = runCli(['--home', home, 'restore-db', bak, DB]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.errLines[0]).toMatch(/partition scheme mismatch .*HASH has 5 buckets in the backup, 3 in the target/);
  });

  it('a target whose VALUE levels are a superset is accepted and gains the values it lacks', async () => {
    const home = freshHome();
    initCluster(home);
    const scheme = structuredClone(loadDatabase(new Cluster(src), DB).scheme) as Extract<Scheme, { type: 'COMPO' }>;
    const date = scheme.levels[2] as { type: 'VALUE'; values: number[] };
    const extra = date.values[0]! + 100;
    date.values = [date.values[1]!, extra]; // lacks the first date, has one the backup lacks
    createDatabase(new Cluster(home), DB, 'OLAP', scheme);
    await restoreDb({ home, backupDir: bak, dbPath: DB });
    expect(digests(home)).toEqual(srcDigests);
    const values = (loadDatabase(new Cluster(home), DB).scheme as typeof scheme).levels[2] as { values: number[] };
    expect(new Set(values.values)).toEqual(new Set([date.values[0], extra, date.values[0]! - 1]));
  });

  it('--output-table with a different schema is refused with CONFLICT', async () => {
    const home = freshHome();
    await restoreDb({ home, backupDir: bak, dbPath: DB });
    const c = new Cluster(home);
    const q = loadDatabase(c, DB).tables.quotes!;
    createPartitionedTable(c, DB, { name: 'narrow', schema: q.schema.filter((s) => s.name !== 'side'), partitionColumns: q.partitionColumns });
    const r = runCli(['--home', home, 'restore', bak, DB, 'quotes', '%', '--output-table', 'narrow']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.errLines[0]).toMatch(/^chunkvault: schema mismatch: table narrow of dfs:\/\/testdb has/);
  });

  it('restoreTable into a missing table of an existing database creates it', async () => {
    const home = freshHome();
    await restoreTable({ home, backupDir: bak, dbPath: DB, table: 'quotes' });
    const r = await restoreTable({ home, backupDir: bak, dbPath: DB, table: 'quotes_2' });
    expect(r.partitions).toBe(10);
    expect(digests(home)).toEqual(srcDigests);
  });
});
