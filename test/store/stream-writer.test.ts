import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTableStream, writeTableFiles, type TableDef } from '../../dist/store/index.js';
import { generatePartition, partitionBlocks, partitionDicts, QUOTES_SCHEMA } from '../../dist/generate/quotes.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const SYMBOLS = ['S00001', 'S00007', 'S00012'];
const table = (sortColumns?: string[]): TableDef => ({ name: 'q', schema: QUOTES_SCHEMA, partitionColumns: ['symbol'], physIndex: 0, ...(sortColumns ? { sortColumns } : {}) });

let root: string;
beforeAll(() => (root = scratchDir('stream')));
afterAll(() => rmTmp(root));

/** The files of one version written in one piece and streamed in blocks of `blockRows`, as bytes by name. */
function bothWays(engine: 'OLAP' | 'TSDB', blockRows: number): [Record<string, string>, Record<string, string>] {
  const t = table(engine === 'TSDB' ? ['symbol', 'time'] : undefined);
  const dir = fs.mkdtempSync(path.join(root, engine));
  const [whole, streamed] = [path.join(dir, 'whole'), path.join(dir, 'streamed')];
  fs.mkdirSync(whole);
  fs.mkdirSync(streamed);
  const { cols, rows } = generatePartition(1, 15340, SYMBOLS, 1000);
  writeTableFiles(whole, engine, t, cols, rows);
  const s = openTableStream(streamed, engine, t, rows, partitionDicts(SYMBOLS));
  for (const b of partitionBlocks(1, 15340, SYMBOLS, 1000, blockRows)) s.add(b.cols, b.rows);
  s.finish();
  const read = (d: string) => Object.fromEntries(fs.readdirSync(d).sort().map((f) => [f, fs.readFileSync(path.join(d, f)).toString('hex')]));
  return [read(whole), read(streamed)];
}

describe('openTableStream', () => {
  it('writes OLAP files byte for byte as writeTableFiles does', () => {
    const [whole, streamed] = bothWays('OLAP', 777);
    expect(streamed).toEqual(whole);
  });

  it('writes TSDB files byte for byte as writeTableFiles does', () => {
    const [whole, streamed] = bothWays('TSDB', 777);
    expect(streamed).toEqual(whole);
  });

  it('refuses to finish with fewer rows than declared', () => {
    const dir = fs.mkdtempSync(path.join(root, 'short'));
    const s = openTableStream(dir, 'OLAP', table(), 10, partitionDicts(SYMBOLS));
    expect(() => s.finish()).toThrow(/0 rows streamed, 10 declared/);
  });
});
