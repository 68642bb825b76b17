import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { append, beginBatch, createDatabase, createPartitionedTable, databaseDigest, isNullValue, loadChunks, loadDatabase, readTable, valueAt, type Cluster } from '../../dist/store/index.js';
import { listLevelFiles } from '../../dist/store/tsdb-format.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

function setup() {
  home = tmpDir('batch');
  return makeTradesDb(path.join(home, 'h'));
}
const SYMS = ['IBM', 'MSFT', 'GOOG', 'AAPL', 'ORCL'];
const DAYS = [D20120101, D20120101 + 1, D20120101 + 2];
/** Every file and directory under the volumes. */
const volumeFiles = (c: Cluster) => c.volumes.flatMap((v) => fs.readdirSync(v.path, { recursive: true, encoding: 'utf8' }).map((f) => path.join(v.path, f))).sort();

describe('a batch commits every partition at once', () => {
  it('no row is visible before commit, and every row after it', () => {
    const { c, db } = setup();
    const b = beginBatch(c, db, 'trades');
    b.add(tradeRows(300, SYMS, DAYS));
    expect(loadChunks(c, db)).toEqual([]);
    const r = b.commit();
    expect(r.rows).toBe(300);
    expect(r.partitions.length).toBeGreaterThan(4);
    expect(readTable(c, db, 'trades').rows).toBe(300);
  });

  it('an aborted batch leaves the catalog and the volumes exactly as they were', () => {
    const { c, db } = setup();
    append(c, db, 'trades', tradeRows(40, SYMS, [D20120101]));
    const before = { def: loadDatabase(c, db), chunks: loadChunks(c, db), files: volumeFiles(c) };
    const b = beginBatch(c, db, 'trades');
    b.add(tradeRows(300, SYMS, DAYS));
    b.abort();
    expect({ def: loadDatabase(c, db), chunks: loadChunks(c, db), files: volumeFiles(c) }).toEqual(before);
  });

  /** The same rows loaded into two databases over 50 appended rows: in batches spilled every few rows, and in one unspilled batch. */
  function spilledAndPlain(engine: 'OLAP' | 'TSDB') {
    home = tmpDir('batch');
    const a = makeTradesDb(path.join(home, 'h'), engine);
    const other = makeTradesDb(path.join(home, 'h2'), engine);
    for (const x of [a, other]) append(x.c, x.db, 'trades', tradeRows(50, SYMS, [D20120101]));
    const spilled = beginBatch(a.c, a.db, 'trades', { bufferBytes: 1000 });
    const plain = beginBatch(other.c, other.db, 'trades');
    for (let k = 0; k < 5; k++) {
      // Rows that tie on (symbol, time) across batches: a TSDB merge must keep them in load order.
      spilled.add(tradeRows(200, SYMS, DAYS, k));
      plain.add(tradeRows(200, SYMS, DAYS, k));
    }
    spilled.commit();
    plain.commit();
    return { a, other };
  }

  it('a batch and a series of appends of the same rows give the same digest, spilled or not', () => {
    const { a, other } = spilledAndPlain('OLAP');
    expect(databaseDigest(a.c, a.db)).toEqual(databaseDigest(other.c, other.db));
    expect(readTable(a.c, a.db, 'trades').rows).toBe(1050);
  });

  it('a spilled TSDB batch writes a level per spill and reads back the rows, in the order, of an unspilled one', () => {
    const { a, other } = spilledAndPlain('TSDB');
    const levels = (c: Cluster, db: string) => loadChunks(c, db).map((k) => listLevelFiles(path.join(c.chunkDir(k, db), k.tables.trades!.version)).length);
    expect(Math.max(...levels(a.c, a.db))).toBeGreaterThan(3);
    expect(Math.max(...levels(other.c, other.db))).toBeLessThanOrEqual(2);
    expect(databaseDigest(a.c, a.db)).toEqual(databaseDigest(other.c, other.db));
  });

  it('a commit fails with CONFLICT and loads nothing when another writer changed a partition meanwhile', () => {
    const { c, db } = setup();
    append(c, db, 'trades', tradeRows(10, SYMS, [D20120101]));
    const b = beginBatch(c, db, 'trades');
    b.add(tradeRows(300, SYMS, DAYS));
    append(c, db, 'trades', tradeRows(10, SYMS, [D20120101], 7));
    const digest = databaseDigest(c, db);
    expect(() => b.commit()).toThrowError(expect.objectContaining({ code: 'CONFLICT' }) as CvError);
    expect(databaseDigest(c, db)).toEqual(digest);
  });

  it('a commit record left by a killed load is what readers see, and the next writer applies it', () => {
    const { c, db } = setup();
    const b = beginBatch(c, db, 'trades');
    b.add(tradeRows(300, SYMS, DAYS));
    b.commit();
    const digest = databaseDigest(c, db);
    // Play a kill just after the commit point: the record is back and the chunk files are gone.
    const chunks = loadChunks(c, db);
    fs.writeFileSync(path.join(c.dbDir(db), 'commit.json'), JSON.stringify({ format: 1, chunks }));
    for (const k of chunks) fs.rmSync(path.join(c.dbDir(db), 'chunks', `${k.chunkId}.json`));
    expect(databaseDigest(c, db)).toEqual(digest);
    append(c, db, 'trades', tradeRows(1, ['IBM'], [D20120101]));
    expect(fs.existsSync(path.join(c.dbDir(db), 'commit.json'))).toBe(false);
    expect(fs.readdirSync(path.join(c.dbDir(db), 'chunks')).length).toBe(chunks.length);
    expect(readTable(c, db, 'trades').rows).toBe(301);
  });
});

describe('NULLs', () => {
  it('null of every type is stored as DolphinDB encodes it and reads back as NULL', () => {
    home = tmpDir('nulls');
    const { c } = makeTradesDb(path.join(home, 'h'));
    const db = 'dfs://nulls';
    createDatabase(c, db, 'OLAP', { type: 'VALUE', colType: 'INT', values: [1] });
    const types = ['BOOL', 'INT', 'LONG', 'DATE', 'MONTH', 'TIME', 'TIMESTAMP', 'FLOAT', 'DOUBLE', 'SYMBOL', 'STRING'] as const;
    createPartitionedTable(c, db, { name: 't', schema: [{ name: 'k', type: 'INT' }, ...types.map((t) => ({ name: `c_${t}`, type: t }))], partitionColumns: ['k'] });
    const b = beginBatch(c, db, 't');
    b.add({ k: [1, 1], ...Object.fromEntries(types.map((t) => [`c_${t}`, [null, t === 'LONG' ? 5n : t === 'SYMBOL' || t === 'STRING' ? 'x' : t === 'BOOL' ? true : 5]])) });
    b.commit();
    const { cols } = readTable(c, db, 't');
    for (const t of types) {
      expect(isNullValue(t, valueAt(cols[`c_${t}`]!, 0)), t).toBe(true);
      expect(isNullValue(t, valueAt(cols[`c_${t}`]!, 1)), t).toBe(false);
    }
  });

  it('a NULL in a partition column is refused with CONFLICT', () => {
    const { c, db } = setup();
    const rows = tradeRows(3, SYMS, DAYS);
    rows.time![1] = null;
    expect(() => beginBatch(c, db, 'trades').add(rows)).toThrowError(/NULL TIMESTAMP cannot name a partition/);
  });
});
