import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/common/json.js';
import { partitionChecker, type ManifestHead, type ManifestPartition } from '../../src/repo/manifest.js';
import { summaryReader } from '../../src/repo/partition-scan.js';

const HEAD = {
  format: 2,
  pointId: '20261128T000000000Z-000000',
  dbPath: 'dfs://db',
  engine: 'OLAP',
  scheme: { type: 'HASH', colType: 'SYMBOL', buckets: 8 },
  tables: { quotes: { name: 'quotes', schema: [{ name: 'a', type: 'INT' }] }, quotes_2: { name: 'quotes_2', schema: [{ name: 'a', type: 'INT' }] } },
  created: '2026-11-28T00:00:00.000Z',
  committed: '2026-11-28T00:00:00.000Z',
  stats: { copiedEntries: 0, skippedEntries: 0, droppedEntries: 0, copiedBytes: 0 },
} as unknown as ManifestHead;

const file = (name: string, size: number) => ({ name, size, xxh3: '0123456789abcdef' });
const entry = (cid: number) => ({ cid, rows: 7, bytes: 30, updateTime: '2026-11-28T01:02:03.004Z', files: [file('a.col', 10), file('b.col', 20)] });
/** A partition as a backup writes it: compact JSON, keys in the manifest's order. */
const partition = (k: number, tables: Record<string, unknown> = { quotes: entry(2 * k + 1), quotes_2: entry(2 * k + 2) }) =>
  ({ path: `/Key${k}`, chunkId: `00000000-0000-4000-8000-00000000000${k}`, tables }) as unknown as ManifestPartition;
const line = (p: unknown) => Buffer.from(JSON.stringify(p));

/** What each line gives (its summary) or throws, read by the scanner and, for comparison, by JSON.parse and partitionChecker. */
function readBoth(lines: string[]): { scanned: unknown[]; parsed: unknown[] } {
  const outcome = (read: (l: string) => ManifestPartition | { path: string; chunkId: string; tables: Record<string, Record<string, unknown>> }) => (l: string) => {
    try {
      const p = read(l);
      return { path: p.path, chunkId: p.chunkId, tables: Object.fromEntries(Object.entries(p.tables).map(([t, e]) => [t, { cid: e.cid, rows: e.rows, bytes: e.bytes, updateTime: e.updateTime }])) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  const scan = summaryReader(HEAD, 'p.json');
  const check = partitionChecker(HEAD, 'p.json');
  return {
    scanned: lines.map(outcome((l) => scan(Buffer.from(l)))),
    parsed: lines.map(outcome((l) => {
      const p = parseJson(l) as ManifestPartition;
      check(p);
      return p;
    })),
  };
}

describe('partition lines read without an object per file', () => {
  it('a line as a backup writes it gives the path, chunk and each table\'s cid, rows, bytes and updateTime that JSON.parse gives', () => {
    const lines = [0, 1, 2, 3].map((k) => line(partition(k)).toString());
    const { scanned, parsed } = readBoth(lines);
    expect(scanned).toEqual(parsed);
    // Read by the scanner, not by JSON.parse: no file list was built.
    expect(summaryReader(HEAD, 'p.json')(Buffer.from(lines[0]!)).tables.quotes).not.toHaveProperty('files');
    expect(scanned[1]).toEqual({ path: '/Key1', chunkId: '00000000-0000-4000-8000-000000000001', tables: { quotes: { cid: 3, rows: 7, bytes: 30, updateTime: '2026-11-28T01:02:03.004Z' }, quotes_2: { cid: 4, rows: 7, bytes: 30, updateTime: '2026-11-28T01:02:03.004Z' } } });
  });

  it('a line in another shape (escapes, spaces, key order, exponents, a repeated key, no tables, UTF-8) reads as JSON.parse reads it', () => {
    const at = (k: number) => line(partition(k)).toString();
    const lines = [
      at(0).replace('"updateTime":"2026', '"updateTime":"\\u0032026'),
      at(1).replace('"chunkId":', ' "chunkId" : '),
      JSON.stringify({ chunkId: partition(2).chunkId, path: '/Key2', tables: { quotes: entry(9) } }),
      at(3).replace('"rows":7', '"rows":7e0'),
      at(4).replace('"tables":{', `"tables":{"quotes":${JSON.stringify({ ...entry(5), files: [file('a.col', 30)] })},`),
      line(partition(5, {})).toString(),
      at(6).replace('004Z', '004Zé'),
    ];
    const { scanned, parsed } = readBoth(lines);
    expect(scanned).toEqual(parsed);
    expect(scanned.filter((s) => 'error' in (s as object))).toEqual([]);
    // Read by JSON.parse: the file list is there.
    expect(summaryReader(HEAD, 'p.json')(Buffer.from(lines[0]!)).tables.quotes).toHaveProperty('files');
  });

  it.each([
    ['a bad checksum', (l: string) => l.replace('0123456789abcdef', '0123456789ABCDEF')],
    ['a file listed twice', (l: string) => l.replace('"b.col"', '"a.col"')],
    ['bytes that are not the sum of the files', (l: string) => l.replace('"bytes":30', '"bytes":31')],
    ['an unsafe file name', (l: string) => l.replace('"b.col"', '"../b"')],
    ['an unknown table', (l: string) => l.replace('"quotes_2"', '"other"')],
    ['a row count beyond 2^53', (l: string) => l.replace('"rows":7', '"rows":9007199254740993')],
    ['a negative cid', (l: string) => l.replace('"cid":1', '"cid":-1')],
    ['no files', (l: string) => l.replace(/"files":\[[^\]]*\]/, '"files":[]')],
    ['a path outside the scheme', (l: string) => l.replace('/Key0', '/Key9')],
  ])('a line with %s fails with the message partitionChecker gives', (_what, edit) => {
    const { scanned, parsed } = readBoth([edit(line(partition(0)).toString())]);
    expect(parsed[0]).toHaveProperty('error');
    expect(scanned).toEqual(parsed);
  });

  it('a path or chunk read by the scanner and then one read by JSON.parse are checked against each other for repeats', () => {
    const first = line(partition(0)).toString();
    const again = first.replace('"path":"/Key0"', '"path":"/Key1"').replace('"chunkId":', ' "chunkId":');
    expect(readBoth([first, again]).scanned[1]).toEqual({ error: expect.stringMatching(/lists partition \/Key1 or chunk .* twice/) });
  });
});
