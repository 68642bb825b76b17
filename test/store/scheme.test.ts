import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Cluster,
  append,
  createDatabase,
  createPartitionedTable,
  dateToDays,
  initCluster,
  levelName,
  levelNames,
  loadChunks,
  routeRows,
  validateScheme,
  vectorFrom,
  type Level,
  type Scheme,
} from '../../dist/store/index.js';
import { listFiles, rmTmp, tmpDir } from '../helpers/tmp.js';

/** FNV-1a over UTF-8, written independently of the store: HASH placement must never change between versions. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
const D = (y: number, m: number, d: number) => dateToDays(y, m, d);
const symbolInBucket = (bucket: number, buckets: number) => {
  for (let i = 0; ; i++) if (fnv1a(`S${i}`) % buckets === bucket) return `S${i}`;
};

describe('partition directory names follow DolphinDB', () => {
  it('HASH with n buckets names partitions Key0..Key{n-1} and puts a symbol in Key{fnv1a % n}', () => {
    const level: Level = { type: 'HASH', colType: 'SYMBOL', buckets: 5 };
    expect(levelNames(level)).toEqual(['Key0', 'Key1', 'Key2', 'Key3', 'Key4']);
    for (const s of ['AAPL', 'S00042', 'ü', '']) expect(levelName(level, 'SYMBOL', s)).toBe(`Key${fnv1a(s) % 5}`);
  });

  it('HASH on an INT column uses |value| mod n', () => {
    const level: Level = { type: 'HASH', colType: 'INT', buckets: 3 };
    expect([0, 1, 2, 3, 7, -7].map((v) => levelName(level, 'INT', v))).toEqual(['Key0', 'Key1', 'Key2', 'Key0', 'Key1', 'Key1']);
  });

  it('VALUE DATE names a partition yyyyMMdd (2012.01.01 -> 20120101)', () => {
    const level: Level = { type: 'VALUE', colType: 'DATE', values: [D(2012, 1, 1), D(2012, 12, 31)] };
    expect(levelNames(level)).toEqual(['20120101', '20121231']);
    expect(levelName(level, 'DATE', D(2012, 1, 1))).toBe('20120101');
  });

  it('VALUE MONTH names a partition yyyyMMM (2012.01M -> 201201M)', () => {
    const level: Level = { type: 'VALUE', colType: 'MONTH', values: [2012 * 12, 2012 * 12 + 11] };
    expect(levelNames(level)).toEqual(['201201M', '201212M']);
  });

  it('VALUE SYMBOL names a partition by the value itself', () => {
    const level: Level = { type: 'VALUE', colType: 'SYMBOL', values: ['tp', 'IBM'] };
    expect(levelNames(level)).toEqual(['tp', 'IBM']);
    expect(levelName(level, 'SYMBOL', 'tp')).toBe('tp');
  });

  it('RANGE names a partition lo_hi and takes lo <= v < hi', () => {
    const level: Level = { type: 'RANGE', colType: 'INT', bounds: [0, 50, 100] };
    expect(levelNames(level)).toEqual(['0_50', '50_100']);
    expect([0, 49, 50, 99].map((v) => levelName(level, 'INT', v))).toEqual(['0_50', '0_50', '50_100', '50_100']);
  });

  it('RANGE over DATE names a partition by both bounds as yyyyMMdd', () => {
    const level: Level = { type: 'RANGE', colType: 'DATE', bounds: [D(2012, 1, 1), D(2012, 2, 1)] };
    expect(levelNames(level)).toEqual(['20120101_20120201']);
  });

  it('LIST names partitions List0..List{n-1} by the list that holds the value', () => {
    const level: Level = { type: 'LIST', colType: 'SYMBOL', lists: [['IBM', 'MSFT'], ['GOOG']] };
    expect(levelNames(level)).toEqual(['List0', 'List1']);
    expect(['MSFT', 'GOOG', 'IBM'].map((v) => levelName(level, 'SYMBOL', v))).toEqual(['List0', 'List1', 'List0']);
  });

  it('a TIMESTAMP column under a VALUE DATE level goes to the partition of its day', () => {
    const level: Level = { type: 'VALUE', colType: 'DATE', values: [D(2012, 1, 1)] };
    const day = D(2012, 1, 1) * 86_400_000;
    expect(levelName(level, 'TIMESTAMP', day)).toBe('20120101');
    expect(levelName(level, 'TIMESTAMP', day + 86_399_999)).toBe('20120101');
    expect(levelName(level, 'TIMESTAMP', day + 86_400_000)).toBe('20120102');
    expect(levelName(level, 'TIMESTAMP', day - 1)).toBe('20111231');
  });

  it('a TIMESTAMP column under a VALUE MONTH level goes to the partition of its month', () => {
    const level: Level = { type: 'VALUE', colType: 'MONTH', values: [] };
    expect(levelName(level, 'TIMESTAMP', D(2012, 2, 29) * 86_400_000 + 5)).toBe('201202M');
  });

  it('a value outside every RANGE partition is rejected with CONFLICT', () => {
    const level: Level = { type: 'RANGE', colType: 'INT', bounds: [0, 50, 100] };
    for (const v of [-1, 100, 1000]) expect(() => levelName(level, 'INT', v)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
  });

  it('a value in no LIST is rejected with CONFLICT', () => {
    const level: Level = { type: 'LIST', colType: 'SYMBOL', lists: [['IBM']] };
    expect(() => levelName(level, 'SYMBOL', 'AAPL')).toThrow(expect.objectContaining({ code: 'CONFLICT', message: expect.stringContaining('AAPL') }));
  });

  it('a VALUE that is not a single safe directory name ("..", "a/b", "", ".") is rejected with CONFLICT', () => {
    const level: Level = { type: 'VALUE', colType: 'SYMBOL', values: [] };
    for (const v of ['..', '../../etc', 'a/b', '', '.', 'nul\0x'])
      expect(() => levelName(level, 'SYMBOL', v), JSON.stringify(v)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(levelName(level, 'SYMBOL', '..a')).toBe('..a');
  });

  it('COMPO routes a row to one nested path per level: /Key3/tp/20120101', () => {
    const scheme: Scheme = {
      type: 'COMPO',
      levels: [
        { type: 'HASH', colType: 'SYMBOL', buckets: 5 },
        { type: 'VALUE', colType: 'SYMBOL', values: ['tp'] },
        { type: 'VALUE', colType: 'DATE', values: [D(2012, 1, 1)] },
      ],
    };
    const sym = symbolInBucket(3, 5);
    const r = routeRows(scheme, [
      { type: 'SYMBOL', vec: vectorFrom({ name: 's', type: 'SYMBOL' }, [sym, sym]) },
      { type: 'SYMBOL', vec: vectorFrom({ name: 'src', type: 'SYMBOL' }, ['tp', 'tp']) },
      { type: 'TIMESTAMP', vec: vectorFrom({ name: 't', type: 'TIMESTAMP' }, [D(2012, 1, 1) * 86_400_000 + 1, D(2012, 1, 2) * 86_400_000]) },
    ]);
    expect(r.paths).toEqual(['/Key3/tp/20120101', '/Key3/tp/20120102']);
    expect(Array.from(r.rowPath)).toEqual([0, 1]);
    // 2012.01.02 is not yet a value of the DATE level: routing reports it as a new VALUE partition.
    expect([...r.newValues.get(2)!]).toEqual([D(2012, 1, 2)]);
  });

  it('validateScheme rejects malformed schemes with USAGE', () => {
    const bad: unknown[] = [
      { type: 'HASH', colType: 'SYMBOL', buckets: 0 },
      { type: 'RANGE', colType: 'INT', bounds: [5] },
      { type: 'RANGE', colType: 'INT', bounds: [5, 5] },
      { type: 'VALUE', colType: 'DATE', values: [1, 1] },
      { type: 'LIST', colType: 'SYMBOL', lists: [['a'], ['a']] },
      { type: 'VALUE', colType: 'FLOAT', values: [] },
      { type: 'COMPO', levels: [{ type: 'HASH', colType: 'INT', buckets: 2 }] },
      { type: 'CUBE', colType: 'INT' },
    ];
    for (const s of bad) expect(() => validateScheme(s as Scheme), JSON.stringify(s)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('partition directories on disk', () => {
  let home: string | undefined;
  afterAll(() => rmTmp(home));

  it('append creates <volume>/CHUNKS/<db>/<level>/<level>/ with RANGE and LIST names', () => {
    home = tmpDir('scheme');
    initCluster(home);
    const c = new Cluster(home);
    createDatabase(c, 'dfs://rl', 'OLAP', {
      type: 'COMPO',
      levels: [
        { type: 'RANGE', colType: 'INT', bounds: [0, 50, 100] },
        { type: 'LIST', colType: 'SYMBOL', lists: [['IBM', 'MSFT'], ['GOOG']] },
      ],
    });
    createPartitionedTable(c, 'dfs://rl', { name: 't', schema: [{ name: 'id', type: 'INT' }, { name: 'sym', type: 'SYMBOL' }], partitionColumns: ['id', 'sym'] });
    append(c, 'dfs://rl', 't', { id: [1, 60, 99], sym: ['IBM', 'GOOG', 'MSFT'] });
    expect(loadChunks(c, 'dfs://rl').map((k) => k.path)).toEqual(['/0_50/List0', '/50_100/List0', '/50_100/List1']);
    const root = path.join(c.volumes[0]!.path, 'CHUNKS', 'rl');
    expect(fs.readdirSync(path.join(root, '50_100')).sort()).toEqual(['List0', 'List1']);
    expect(fs.readdirSync(path.join(root, '0_50', 'List0'))).toEqual(['t_0_1']);
  });

  it('an append whose VALUE would climb out of the volume is refused and writes nothing anywhere', () => {
    const h = path.join(home!, 'trav');
    initCluster(h);
    const c = new Cluster(h);
    createDatabase(c, 'dfs://v', 'OLAP', { type: 'VALUE', colType: 'SYMBOL', values: [] });
    createPartitionedTable(c, 'dfs://v', { name: 't', schema: [{ name: 'sym', type: 'SYMBOL' }], partitionColumns: ['sym'] });
    const before = listFiles(home!);
    expect(() => append(c, 'dfs://v', 't', { sym: ['ok', '../../../../escaped'] })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(listFiles(home!)).toEqual(before);
    expect(loadChunks(c, 'dfs://v')).toEqual([]);
  });
});
