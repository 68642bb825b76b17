import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { concatVectors } from '../../dist/store/codec.js';
import { append, forEachVersionRange, loadChunks, loadDatabase, readVersionDir, tableOf, type Cluster, type Vector } from '../../dist/store/index.js';
import { listLevelFiles, readDict, readLevelFile, writeLevelFile } from '../../dist/store/tsdb-format.js';
import { D20120101, TRADES, makeTradesDb, ts } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

/** n rows of one symbol on one day, with repeated times (ties across levels), values marked by salt. */
function rows(n: number, salt: number): Record<string, unknown[]> {
  const r: Record<string, unknown[]> = { time: [], symbol: [], price: [], qty: [] };
  for (let i = 0; i < n; i++) {
    r.time!.push(ts(D20120101, (i * 7) % 997));
    r.symbol!.push(i % 3 === 0 ? 'IBM' : 'MSFT');
    r.price!.push(i / 4);
    r.qty!.push(salt * 1_000_000 + i);
  }
  return r;
}

function tsdb(appends: number[]): { c: Cluster; db: string } {
  home = tmpDir('level-ranges');
  const { c, db } = makeTradesDb(path.join(home, 'h'), 'TSDB');
  appends.forEach((n, salt) => append(c, db, 'trades', rows(n, salt)));
  return { c, db };
}

function versions(c: Cluster, db: string) {
  return loadChunks(c, db).map((k) => ({ dir: path.join(c.chunkDir(k, db), k.tables.trades!.version), rows: k.tables.trades!.rows }));
}

/** Every range concatenated, per column. */
async function ranged(c: Cluster, db: string, dir: string, rowsIn: number, take: number, rangeRows: number): Promise<{ cols: Record<string, Vector>; calls: number }> {
  const def = loadDatabase(c, db);
  const got: Vector[][] = [];
  await forEachVersionRange(dir, def, tableOf(def, 'trades'), TRADES, rowsIn, take, rangeRows, async (v, n) => {
    expect(n).toBeLessThanOrEqual(rangeRows);
    got.push(v.map((x) => trim(x, n)));
  });
  return { cols: Object.fromEntries(TRADES.map((col, j) => [col.name, concatVectors(col.type, got.map((g) => g[j]!))])), calls: got.length };
}

function trim(v: Vector, n: number): Vector {
  if (v.kind === 'sym') return { ...v, codes: v.codes.subarray(0, n) };
  if (v.kind === 'str') return { ...v, values: v.values.slice(0, n) };
  return { ...v, values: v.values.subarray(0, n) };
}

/** The first `take` rows of the version as readVersionDir (the whole read, stable-sorted) gives them. */
function whole(c: Cluster, db: string, dir: string, take: number): Record<string, Vector> {
  const def = loadDatabase(c, db);
  const all = readVersionDir(dir, def, tableOf(def, 'trades'));
  return Object.fromEntries(TRADES.map((col) => [col.name, trim(all[col.name]!, take)]));
}

/** Symbol columns compared as strings: a range's dictionary may differ from the whole read's. */
const plain = (cols: Record<string, Vector>) => Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v.kind === 'sym' ? Array.from(v.codes, (x) => v.dict[x]) : Array.from(v.values as ArrayLike<unknown>)]));

describe('TSDB versions read a range of rows at a time', () => {
  it('three levels with ties merge into the rows, in the order, of the whole read', async () => {
    const { c, db } = tsdb([500, 300, 700]);
    for (const v of versions(c, db)) {
      expect(listLevelFiles(v.dir).length).toBe(3);
      expect(plain((await ranged(c, db, v.dir, v.rows, v.rows, 37)).cols)).toEqual(plain(whole(c, db, v.dir, v.rows)));
    }
  });

  it('levels larger than the merge window give the rows of the whole read', async () => {
    const { c, db } = tsdb([70_000, 69_000]);
    const [v] = versions(c, db);
    expect(plain((await ranged(c, db, v!.dir, v!.rows, v!.rows, 50_000)).cols)).toEqual(plain(whole(c, db, v!.dir, v!.rows)));
  });

  it('a take below the version rows stops there', async () => {
    const { c, db } = tsdb([400, 400]);
    const [v] = versions(c, db);
    expect(plain((await ranged(c, db, v!.dir, v!.rows, 123, 50)).cols)).toEqual(plain(whole(c, db, v!.dir, 123)));
  });

  it('a level that is not sorted on its own makes the version read whole, in the whole read order', async () => {
    const { c, db } = tsdb([300, 300]);
    const [v] = versions(c, db);
    const def = loadDatabase(c, db);
    const last = path.join(v!.dir, listLevelFiles(v!.dir).at(-1)!);
    const dict = readDict(v!.dir);
    const lvl = readLevelFile(last, TRADES, dict);
    const n = lvl.qty!.kind === 'num' ? lvl.qty!.values.length : 0;
    const rev = Uint32Array.from({ length: n }, (_, i) => n - 1 - i);
    const reversed = Object.fromEntries(Object.entries(lvl).map(([k, x]) => [k, x.kind === 'sym' ? { ...x, codes: Uint32Array.from(rev, (i) => x.codes[i]!) } : x.kind === 'num' ? { ...x, values: (x.values as Float64Array).map((_, i) => (x.values as Float64Array)[rev[i]!]!) } : x]));
    fs.rmSync(last);
    writeLevelFile(last, TRADES, reversed, n, new Map(dict.map((s, i) => [s, i])));
    const r = await ranged(c, db, v!.dir, v!.rows, v!.rows, 50);
    expect(r.calls).toBe(Math.ceil(v!.rows / 50));
    expect(plain(r.cols)).toEqual(plain(whole(c, db, v!.dir, v!.rows)));
    expect(def.engine).toBe('TSDB');
  });

  it('a flipped byte in a level is reported as a corrupt file', async () => {
    const { c, db } = tsdb([300, 300]);
    const [v] = versions(c, db);
    const file = path.join(v!.dir, listLevelFiles(v!.dir)[0]!);
    const b = fs.readFileSync(file);
    b[b.length - 5] ^= 0xff;
    fs.rmSync(file);
    fs.writeFileSync(file, b);
    const err = await ranged(c, db, v!.dir, v!.rows, v!.rows, 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CvError);
    expect((err as CvError).code).toBe('CORRUPT');
    expect((err as Error).message).toMatch(/checksum mismatch/);
  });
});
