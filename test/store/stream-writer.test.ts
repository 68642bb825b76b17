import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockEncoder, openTableStreams, writeTableFiles, type TableDef } from '../../dist/store/index.js';
import { generatePartition, partitionBlocks, partitionDicts, QUOTES_SCHEMA } from '../../dist/generate/quotes.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const SYMBOLS = ['S00001', 'S00007', 'S00012'];
const table = (sortColumns?: string[]): TableDef => ({ name: 'q', schema: QUOTES_SCHEMA, partitionColumns: ['symbol'], physIndex: 0, ...(sortColumns ? { sortColumns } : {}) });

let root: string;
beforeAll(() => (root = scratchDir('stream')));
afterAll(() => rmTmp(root));

/**
 * Per target, the files of one version written in one piece by writeTableFiles and streamed (all
 * targets in one openTableStreams) in blocks of `blockRows`, as bytes by name.
 */
function bothWays(engines: ('OLAP' | 'TSDB')[], blockRows: number, symbols = SYMBOLS, rowsPerSymbol = 1000, encoder?: BlockEncoder): [Record<string, string>, Record<string, string>][] {
  const { cols, rows } = generatePartition(1, 15340, symbols, rowsPerSymbol);
  const dir = fs.mkdtempSync(path.join(root, 'v'));
  const targets = engines.map((engine, i) => {
    const [whole, streamed] = [path.join(dir, `${i}-whole`), path.join(dir, `${i}-streamed`)];
    fs.mkdirSync(whole);
    fs.mkdirSync(streamed);
    const t = table(engine === 'TSDB' ? ['symbol', 'time'] : undefined);
    writeTableFiles(whole, engine, t, cols, rows);
    return { whole, dir: streamed, engine, table: t };
  });
  const s = openTableStreams(targets, rows, partitionDicts(symbols), encoder ? { encoder } : {});
  for (const b of partitionBlocks(1, 15340, symbols, rowsPerSymbol, blockRows)) s.add(b.cols, b.rows);
  s.finish();
  const read = (d: string) => Object.fromEntries(fs.readdirSync(d).sort().map((f) => [f, fs.readFileSync(path.join(d, f)).toString('hex')]));
  return targets.map((x) => [read(x.whole), read(x.dir)]);
}

describe('openTableStreams', () => {
  it('writes OLAP files byte for byte as writeTableFiles does', () => {
    const [[whole, streamed]] = bothWays(['OLAP'], 777);
    expect(streamed).toEqual(whole);
  });

  it('writes TSDB files byte for byte as writeTableFiles does', () => {
    const [[whole, streamed]] = bothWays(['TSDB'], 777);
    expect(streamed).toEqual(whole);
  });

  it('writes each of several tables fed the same blocks byte for byte as writeTableFiles does, TSDB codes wider than OLAP ones included', () => {
    // 254 symbols: 1-byte codes in the OLAP files, 2-byte codes in the TSDB chunk dictionary of 257 (side and source added).
    const symbols = Array.from({ length: 254 }, (_, i) => `S${String(i).padStart(5, '0')}`);
    const tables = bothWays(['OLAP', 'TSDB', 'OLAP', 'TSDB'], 1000, symbols, 10);
    expect(tables).toHaveLength(4);
    for (const [whole, streamed] of tables) expect(streamed).toEqual(whole);
  });

  it('writes byte for byte as writeTableFiles does with one encoder kept across two sets of tables of other dictionaries', () => {
    const encoder = new BlockEncoder();
    const wide = Array.from({ length: 300 }, (_, i) => `S${String(i).padStart(5, '0')}`);
    const tables = [...bothWays(['OLAP', 'TSDB'], 1000, wide, 10, encoder), ...bothWays(['TSDB', 'OLAP'], 333, SYMBOLS, 1000, encoder)];
    for (const [whole, streamed] of tables) expect(streamed).toEqual(whole);
  });

  it('refuses to finish with fewer rows than declared', () => {
    const dir = fs.mkdtempSync(path.join(root, 'short'));
    const s = openTableStreams([{ dir, engine: 'OLAP', table: table() }], 10, partitionDicts(SYMBOLS));
    expect(() => s.finish()).toThrow(/0 rows streamed, 10 declared/);
  });
});
