import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { append, databaseDigest, loadChunks, partitionStats, readPartition, tableDigest } from '../../dist/store/index.js';
import { cliJson, runCliAsync } from '../helpers/cli.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let root: string;
beforeAll(() => {
  root = tmpDir('digest');
});
afterAll(() => rmTmp(root));

const SMALL = ['--dates', '2', '--symbols', '10', '--rows-per-symbol', '200'];

describe('db digest of generated homes', () => {
  type Home = 'a' | 'b' | 'spread' | 'seed2';
  const HOMES: Home[] = ['a', 'b', 'spread', 'seed2'];
  const DBS = ['dfs://testdb', 'dfs://testdb_tsdb'];
  const home = (h: Home) => path.join(root, h);
  /** `db digest <db> --json` stdout per home and database, exactly as printed. */
  const out: Record<string, string> = {};
  const digests = (h: Home, db: string) => JSON.parse(out[`${h} ${db}`]!) as { table: string; rows: number; digest: string }[];

  beforeAll(async () => {
    const init = await runCliAsync(['--home', home('spread'), 'init', '--nodes', '2', '--volumes-per-node', '2']);
    expect(init.code, init.stderr).toBe(0);
    const runs = await Promise.all([
      runCliAsync(['--home', home('a'), 'generate', ...SMALL, '--seed', '7']),
      runCliAsync(['--home', home('b'), 'generate', ...SMALL, '--seed', '7', '--workers', '1']),
      runCliAsync(['--home', home('spread'), 'generate', ...SMALL, '--seed', '7']),
      runCliAsync(['--home', home('seed2'), 'generate', ...SMALL, '--seed', '8']),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const keys = HOMES.flatMap((h) => DBS.map((db) => [h, db] as const));
    const res = await Promise.all(keys.map(([h, db]) => runCliAsync(['--home', home(h), 'db', 'digest', db, '--json'])));
    res.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      out[`${keys[i]![0]} ${keys[i]![1]}`] = r.stdout;
    });
  });

  it('two homes generated with the same seed give identical digest output for both databases', () => {
    for (const db of DBS) {
      expect(digests('a', db).length).toBeGreaterThan(0);
      expect(out[`b ${db}`]).toBe(out[`a ${db}`]);
    }
    expect(digests('a', 'dfs://testdb').map((t) => t.table)).toEqual(['quotes', 'quotes_2']);
    expect(digests('a', 'dfs://testdb_tsdb').map((t) => [t.table, t.rows])).toEqual([['quotes_tsdb', 4000]]);
  });

  it('a different seed gives a different digest for every table', () => {
    for (const db of DBS) {
      const a = digests('a', db);
      const s2 = digests('seed2', db);
      expect(s2.map((t) => t.rows)).toEqual(a.map((t) => t.rows));
      s2.forEach((t, i) => expect(t.digest).not.toBe(a[i]!.digest));
    }
  });

  it('the same seed on 2 nodes x 2 volumes gives the same digest as on one volume', () => {
    const parts = cliJson<{ volume: string; node: string }[]>(['--home', home('spread'), 'db', 'partitions', 'dfs://testdb']);
    expect(new Set(parts.map((p) => p.volume)).size).toBe(4);
    expect(new Set(parts.map((p) => p.node))).toEqual(new Set(['node1', 'node2']));
    for (const db of DBS) expect(out[`spread ${db}`]).toBe(out[`a ${db}`]);
  });

  it('--partitions shows per-partition rows and one checksum per column', () => {
    const d = cliJson<{ table: string; partitions: { path: string; rows: number; columns: Record<string, string> }[] }[]>(['--home', home('a'), 'db', 'digest', 'dfs://testdb_tsdb', '--partitions']);
    expect(d[0]!.partitions).toHaveLength(10);
    for (const p of d[0]!.partitions) {
      expect(p.path).toMatch(/^\/Key[0-4]\/tp\/2012010[12]$/);
      expect(Object.keys(p.columns)).toEqual(['time', 'symbol', 'price', 'volume', 'side', 'source']);
      for (const v of Object.values(p.columns)) expect(v).toMatch(/^[0-9a-f]{16}$/);
    }
  });
});

describe('digest equality and sensitivity (library)', () => {
  it('equal contents in databases with different names and different cids have equal digests', () => {
    const x = makeTradesDb(path.join(root, 'x'), 'OLAP', 'alpha');
    const y = makeTradesDb(path.join(root, 'y'), 'OLAP', 'beta');
    const rows = tradeRows(60, ['IBM', 'MSFT', 'GOOG'], [D20120101, D20120101 + 1]);
    append(x.c, x.db, 'trades', rows);
    // y gets the same rows partition by partition, so its chunks carry other cids.
    const byDay = (d: number) => {
      const idx = rows.time!.map((t, i) => [t as number, i] as const).filter(([t]) => Math.floor(t / 86_400_000) === d).map(([, i]) => i);
      return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, idx.map((i) => v[i])]));
    };
    append(y.c, y.db, 'trades', byDay(D20120101 + 1));
    append(y.c, y.db, 'trades', byDay(D20120101));
    expect(partitionStats(y.c, y.db).map((s) => s.cid)).not.toEqual(partitionStats(x.c, x.db).map((s) => s.cid));
    expect(tableDigest(y.c, y.db, 'trades')).toEqual(tableDigest(x.c, x.db, 'trades'));
  });

  it('changing one value changes the digest of that partition and column only', () => {
    const x = makeTradesDb(path.join(root, 'v1'), 'TSDB');
    const y = makeTradesDb(path.join(root, 'v2'), 'TSDB');
    const rows = tradeRows(40, ['IBM', 'MSFT'], [D20120101]);
    append(x.c, x.db, 'trades', rows);
    const changed = { ...rows, price: [...rows.price!] };
    changed.price[17] = (changed.price[17] as number) + 0.25;
    append(y.c, y.db, 'trades', changed);
    const dx = tableDigest(x.c, x.db, 'trades');
    const dy = tableDigest(y.c, y.db, 'trades');
    expect(dy.digest).not.toBe(dx.digest);
    const diffs = dx.partitions.flatMap((p, i) => Object.keys(p.columns).filter((col) => p.columns[col] !== dy.partitions[i]!.columns[col]).map((col) => `${p.path}:${col}`));
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatch(/:price$/);
  });

  it('appending one row changes the digest', () => {
    const x = makeTradesDb(path.join(root, 'grow'), 'OLAP');
    append(x.c, x.db, 'trades', tradeRows(20, ['IBM'], [D20120101]));
    const before = tableDigest(x.c, x.db, 'trades').digest;
    append(x.c, x.db, 'trades', tradeRows(1, ['IBM'], [D20120101]));
    expect(tableDigest(x.c, x.db, 'trades').digest).not.toBe(before);
  });
});

describe('a flipped byte in a data file is detected', () => {
  const flip = (file: string, at: number) => {
    const b = fs.readFileSync(file);
    b[at] = b[at]! ^ 0x01;
    fs.writeFileSync(file, b);
  };
  const expectCorrupt = (fn: () => unknown, file: string) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CvError);
    expect(err).toMatchObject({ code: 'CORRUPT', message: expect.stringContaining(path.basename(file)) });
  };

  it.each([
    ['OLAP', 'price.col', 'payload'],
    ['OLAP', 'symbol.col', 'header'],
    ['TSDB', '0_00000001', 'payload'],
    ['TSDB', 'chunk.dict', 'payload'],
  ] as const)('%s: one flipped bit in the %s %s makes read and digest throw CORRUPT', (engine, name, where) => {
    const x = makeTradesDb(path.join(root, `flip-${engine}-${name}`), engine);
    append(x.c, x.db, 'trades', tradeRows(30, ['IBM'], [D20120101]));
    const k = loadChunks(x.c, x.db)[0]!;
    const file = path.join(x.c.chunkDir(k, x.db), k.tables.trades!.version, name);
    const size = fs.statSync(file).size;
    flip(file, where === 'header' ? 20 : size - 3);
    expectCorrupt(() => readPartition(x.c, x.db, 'trades', k.path), file);
    expectCorrupt(() => databaseDigest(x.c, x.db), file);
  });

  it('a truncated .col file makes the read throw CORRUPT', () => {
    const x = makeTradesDb(path.join(root, 'trunc'), 'OLAP');
    append(x.c, x.db, 'trades', tradeRows(30, ['IBM'], [D20120101]));
    const k = loadChunks(x.c, x.db)[0]!;
    const file = path.join(x.c.chunkDir(k, x.db), k.tables.trades!.version, 'qty.col');
    fs.truncateSync(file, fs.statSync(file).size - 4);
    expectCorrupt(() => readPartition(x.c, x.db, 'trades', k.path), file);
  });
});
