import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseDigest, loadChunks, partitionStats, readTable, valueAt } from '../../dist/store/index.js';
import { spawnStoreScript, waitExit } from '../helpers/child.js';
import { makeTradesDb } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterAll(() => rmTmp(home));

/** Appends `batches` batches of 50 rows with qty = base + running index, over 3 symbols and 3 days (2 of them new). */
const WRITER = `
const [home, db, base, batches] = process.argv.slice(1).map((x, i) => (i < 2 ? x : Number(x)));
const c = new store.Cluster(home);
const syms = ['IBM', 'MSFT', 'GOOG'];
for (let k = 0; k < batches; k++) {
  const rows = { time: [], symbol: [], price: [], qty: [] };
  for (let i = 0; i < 50; i++) {
    rows.time.push((15340 + (i % 3)) * 86400000 + k * 1000 + i);
    rows.symbol.push(syms[(i + k) % 3]);
    rows.price.push(1);
    rows.qty.push(base + k * 50 + i);
  }
  store.append(c, db, 'trades', rows);
}
`;

describe('two processes appending to one database', () => {
  it.each(['OLAP', 'TSDB'] as const)('%s: both succeed and every row of both is there (no lost update)', async (engine) => {
    home ??= tmpDir('conc');
    const { c, db } = makeTradesDb(path.join(home, engine), engine);
    const a = spawnStoreScript(WRITER, [c.home, db, '0', '20']);
    const b = spawnStoreScript(WRITER, [c.home, db, '100000', '20']);
    const errs = ['', ''];
    a.stderr!.setEncoding('utf8').on('data', (d: string) => (errs[0] += d));
    b.stderr!.setEncoding('utf8').on('data', (d: string) => (errs[1] += d));
    const [ea, eb] = await Promise.all([waitExit(a), waitExit(b)]);
    expect({ ea, eb, errs }).toEqual({ ea: { code: 0, signal: null }, eb: { code: 0, signal: null }, errs: ['', ''] });

    const stats = partitionStats(c, db, 'trades');
    expect(stats.reduce((s, p) => s + p.rows, 0)).toBe(2 * 20 * 50);
    // Every commit got its own cid, and each new VALUE date was added exactly once.
    expect(new Set(stats.map((s) => s.cid)).size).toBe(stats.length);
    expect(new Set(loadChunks(c, db).map((k) => k.path)).size).toBe(loadChunks(c, db).length);
    const { rows, cols } = readTable(c, db, 'trades');
    const qty = Array.from({ length: rows }, (_, i) => Number(valueAt(cols.qty!, i))).sort((x, y) => x - y);
    const want = [...Array.from({ length: 1000 }, (_, i) => i), ...Array.from({ length: 1000 }, (_, i) => 100000 + i)];
    expect(qty).toEqual(want);
    expect(databaseDigest(c, db)[0]!.rows).toBe(2000);
  });
});
