import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { append, databaseSummary, partitionStats } from '../../dist/store/index.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

const root = tmpDir('summary');
afterAll(() => rmTmp(root));

describe('databaseSummary', () => {
  it('names the engine and tables of a database with no data, with zero partitions and bytes', () => {
    const { c, db } = makeTradesDb(path.join(root, 'empty'), 'TSDB');
    expect(databaseSummary(c, db)).toEqual({ dbPath: db, engine: 'TSDB', tables: ['trades'], partitions: 0, bytes: 0 });
  });

  it('counts every placed chunk and sums the bytes of every table version in them', () => {
    const { c, db } = makeTradesDb(path.join(root, 'full'));
    append(c, db, 'trades', tradeRows(200, ['IBM', 'MSFT', 'GOOG'], [D20120101, D20120101 + 1]));
    const stats = partitionStats(c, db);
    const s = databaseSummary(c, db);
    expect(s.partitions).toBe(new Set(stats.map((p) => p.chunkId)).size);
    expect(s.partitions).toBeGreaterThan(1);
    expect(s.bytes).toBe(stats.reduce((a, p) => a + p.bytes, 0));
    expect(s.bytes).toBeGreaterThan(0);
  });
});
