import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Cluster,
  append,
  createDatabase,
  createPartitionedTable,
  databaseDigest,
  hashString,
  initCluster,
  loadChunks,
  loadDatabase,
  readPartition,
  readTable,
  valueAt,
  type Scheme,
} from '../../dist/store/index.js';
import { D20120101, DAY_MS, makeTradesDb, tradeRows } from '../helpers/store.js';
import { listFiles, rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

const SYMBOLS = ['IBM', 'MSFT', 'GOOG', 'AAPL', 'ORCL', 'SAP', 'INTC'];
const ymd = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');

describe.each(['OLAP', 'TSDB'] as const)('routing on %s', (engine) => {
  it('append puts every row in the partition of its symbol bucket and day, and nowhere else', () => {
    home = tmpDir('route');
    const { c, db } = makeTradesDb(path.join(home, 'h'), engine);
    const days = [D20120101, D20120101 + 1, D20120101 + 2];
    const input = tradeRows(300, SYMBOLS, days);
    const res = append(c, db, 'trades', input);
    expect(res.rows).toBe(300);

    // Expected partition of each row, computed from the input (qty is a unique row id).
    const want = new Map<string, number[]>();
    for (let i = 0; i < 300; i++) {
      const p = `/Key${hashString(input.symbol![i] as string) % 4}/${ymd(Math.floor((input.time![i] as number) / DAY_MS))}`;
      if (!want.has(p)) want.set(p, []);
      want.get(p)!.push(input.qty![i] as number);
    }
    const chunks = loadChunks(c, db);
    expect(chunks.map((k) => k.path).sort()).toEqual([...want.keys()].sort());
    for (const [p, qtys] of want) {
      const { rows, cols } = readPartition(c, db, 'trades', p);
      expect(rows).toBe(qtys.length);
      const got = Array.from({ length: rows }, (_, i) => Number(valueAt(cols.qty!, i)));
      expect(got.sort((a, b) => a - b)).toEqual(qtys.sort((a, b) => a - b));
      for (let i = 0; i < rows; i++) {
        expect(`/Key${hashString(valueAt(cols.symbol!, i) as string) % 4}`).toBe(p.slice(0, p.indexOf('/', 1)));
      }
    }
  });

  it('a second append to the same partitions adds rows after the existing ones', () => {
    home = tmpDir('route2');
    const { c, db } = makeTradesDb(path.join(home, 'h'), engine);
    append(c, db, 'trades', tradeRows(40, SYMBOLS, [D20120101]));
    append(c, db, 'trades', tradeRows(60, SYMBOLS, [D20120101], 1000));
    const { rows, cols } = readTable(c, db, 'trades');
    expect(rows).toBe(100);
    const qty = Array.from({ length: rows }, (_, i) => Number(valueAt(cols.qty!, i))).sort((a, b) => a - b);
    expect(qty).toEqual([...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 60 }, (_, i) => i + 1000)]);
  });

  it('an append with a new date adds a VALUE partition and records the value in database.json', () => {
    home = tmpDir('route3');
    const { c, db } = makeTradesDb(path.join(home, 'h'), engine);
    const dateLevel = () => (loadDatabase(c, db).scheme as Extract<Scheme, { type: 'COMPO' }>).levels[1]!;
    expect(dateLevel()).toMatchObject({ type: 'VALUE', values: [D20120101] });
    append(c, db, 'trades', tradeRows(10, ['IBM'], [D20120101 + 5, D20120101 + 3]));
    expect(dateLevel()).toMatchObject({ values: [D20120101, D20120101 + 5, D20120101 + 3] });
    const key = `Key${hashString('IBM') % 4}`;
    expect(loadChunks(c, db).map((k) => k.path).sort()).toEqual([`/${key}/20120104`, `/${key}/20120106`]);
    // A value already known is not added twice.
    append(c, db, 'trades', tradeRows(10, ['IBM'], [D20120101 + 5]));
    expect((dateLevel() as { values: number[] }).values).toHaveLength(3);
  });
});

describe('routing refusals', () => {
  it('a batch with one row outside every RANGE partition is refused with CONFLICT and changes nothing', () => {
    home = tmpDir('route4');
    initCluster(home);
    const c = new Cluster(home);
    createDatabase(c, 'dfs://r', 'OLAP', { type: 'RANGE', colType: 'INT', bounds: [0, 10, 20] });
    createPartitionedTable(c, 'dfs://r', { name: 't', schema: [{ name: 'qty', type: 'INT' }], partitionColumns: ['qty'] });
    append(c, 'dfs://r', 't', { qty: [1, 15] });
    const before = { files: listFiles(home), digest: databaseDigest(c, 'dfs://r') };
    expect(() => append(c, 'dfs://r', 't', { qty: [2, 5, 20] })).toThrow(expect.objectContaining({ code: 'CONFLICT', message: expect.stringContaining('20') }));
    expect(listFiles(home)).toEqual(before.files);
    expect(databaseDigest(c, 'dfs://r')).toEqual(before.digest);
  });
});
