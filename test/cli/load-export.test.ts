import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { CLI, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
let home: string;
const cv = (...args: string[]) => runCli(['--home', home, ...args]);
function ok(...args: string[]): string {
  const r = cv(...args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
const digest = (db: string) => (JSON.parse(ok('db', 'digest', db, '--json')) as { table: string; digest: string; rows: number }[]).map(({ digest: d, rows }) => ({ d, rows }));
const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const QUOTES = 'time:TIMESTAMP,symbol:SYMBOL,price:FLOAT,volume:FLOAT,side:SYMBOL,source:SYMBOL';
const SCHEME = 'COMPO(HASH(SYMBOL,5), VALUE(SYMBOL:tp), VALUE(DATE:2012.01.01..2012.01.02))';
const HEADER = 'symbol,time,price,volume,side,source\n';

beforeAll(() => {
  dir = scratchDir('load');
  home = path.join(dir, 'h');
  ok('init');
  ok('db', 'create', 'dfs://q', '--partition', SCHEME);
  ok('table', 'create', 'dfs://q', 'quotes', '--columns', QUOTES, '--partition-columns', 'symbol,source,time');
});
afterAll(() => rmTmp(dir));

describe('db create and table create', () => {
  it('db create parses a DolphinDB COMPO scheme with a DATE range', () => {
    const d = JSON.parse(ok('db', 'describe', 'dfs://q', '--json')) as { scheme: { levels: { type: string; values?: number[]; buckets?: number }[] } };
    expect(d.scheme.levels.map((l) => l.type)).toEqual(['HASH', 'VALUE', 'VALUE']);
    expect(d.scheme.levels[2]!.values).toEqual([15340, 15341]);
  });

  it('a scheme string that does not parse exits 2 naming the position, and creates nothing', () => {
    const r = cv('db', 'create', 'dfs://bad', '--partition', 'COMPO(HASH(SYMBOL,5), VALUE(DATE:2012.01.01..2012.02.30))');
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([expect.stringMatching(/^chunkvault: bad partition scheme at position 46: "2012.02.30" is not a DATE value/)]);
    expect(cv('db', 'describe', 'dfs://bad').code).toBe(3);
  });

  it('RANGE, LIST and --like schemes round-trip through db describe', () => {
    ok('db', 'create', 'dfs://r', '--partition', 'RANGE(INT: 0 50 100)');
    ok('db', 'create', 'dfs://l', '--partition', 'LIST(SYMBOL: [`IBM`ORCL, MSFT], [GOOG])', '--engine', 'TSDB');
    ok('db', 'create', 'dfs://like', '--like', 'dfs://l');
    const d = (db: string) => JSON.parse(ok('db', 'describe', db, '--json')) as { engine: string; scheme: unknown };
    expect(d('dfs://r').scheme).toEqual({ type: 'RANGE', colType: 'INT', bounds: [0, 50, 100] });
    expect(d('dfs://l').scheme).toEqual({ type: 'LIST', colType: 'SYMBOL', lists: [['IBM', 'ORCL', 'MSFT'], ['GOOG']] });
    expect(d('dfs://like')).toMatchObject({ engine: 'TSDB', scheme: d('dfs://l').scheme });
  });
});

describe('load', () => {
  it('loads a CSV with DolphinDB and ISO literals, quoting and NULLs, and export gives it back', () => {
    ok('db', 'create', 'dfs://a', '--partition', SCHEME);
    ok('table', 'create', 'dfs://a', 'quotes', '--like', 'dfs://q/quotes');
    const f = write('a.csv', `${HEADER}IBM,2012.01.01T09:30:00.000,10.5,100,B,tp\nMSFT,2012-01-02T09:31:00Z,,200,S,tp\n"A,""B""",2012.01.02 09:31:00.001,1.25,,,tp\n`);
    const r = JSON.parse(ok('load', 'dfs://a', 'quotes', f, '--json')) as { rows: number; partitions: number };
    expect(r).toMatchObject({ rows: 3, partitions: 3 });
    expect(ok('export', 'dfs://a', 'quotes', '--columns', 'symbol,time,price,volume,side').split('\n').sort()).toEqual(
      ['', '"A,""B""",2012.01.02T09:31:00.001,1.25,,', 'IBM,2012.01.01T09:30:00.000,10.5,100,B', 'MSFT,2012.01.02T09:31:00.000,,200,S', 'symbol,time,price,volume,side'].sort(),
    );
  });

  const BAD: [string, string, number, RegExp][] = [
    ['a value of the wrong type', `${HEADER}IBM,2012.01.01T09:30:00.000,ten,1,B,tp\n`, 2, /bad\.csv:2: column price: "ten" is not a FLOAT/],
    ['a date outside every partition of a RANGE level', '', 4, /range\.csv:3: column d: value 2012\.03\.01 is outside every RANGE partition/],
    ['an unknown column', 'symbol,time,price,volume,side,source,bogus\n', 2, /bad\.csv:1: unknown column "bogus"/],
    ['a short row', `${HEADER}IBM,2012.01.01T09:30:00.000,1\n`, 2, /bad\.csv:2: short row: 3 field\(s\), expected 6/],
    ['an unterminated quote', `${HEADER}IBM,2012.01.01T09:30:00.000,1,1,B,tp\n"IBM,2012.01.01T09:30:00.000,1,1,B,tp\n`, 2, /bad\.csv:3: unterminated quote/],
  ];
  for (const [what, text, code, re] of BAD) {
    it(`${what} exits ${code} with one line naming file, line and column, and loads nothing`, () => {
      let db = 'dfs://q';
      let table = 'quotes';
      let f = write('bad.csv', text);
      if (what.startsWith('a date')) {
        db = 'dfs://rng';
        table = 't';
        if (cv('db', 'describe', db).code !== 0) {
          ok('db', 'create', db, '--partition', 'RANGE(DATE: 2012.01.01 2012.02.01 2012.03.01)');
          ok('table', 'create', db, table, '--columns', 'd:DATE,v:INT', '--partition-columns', 'd');
        }
        f = write('range.csv', 'd,v\n2012.01.05,1\n2012.03.01,2\n');
      }
      const before = digest(db);
      const r = cv('load', db, table, f);
      expect(r.code).toBe(code);
      expect(r.errLines).toHaveLength(1);
      expect(r.errLines[0]).toMatch(re);
      expect(digest(db)).toEqual(before);
    });
  }

  it('--null-string sets the text that means NULL, and stdin is read with -', () => {
    ok('db', 'create', 'dfs://n', '--partition', 'VALUE(INT: 1)');
    ok('table', 'create', 'dfs://n', 't', '--columns', 'k:INT,s:STRING,x:DOUBLE', '--partition-columns', 'k');
    const r = spawnSync(process.execPath, [CLI, '--home', home, 'load', 'dfs://n', 't', '-', '--null-string', 'NA', '--delimiter', ';'], { input: 'k;s;x\n1;NA;NA\n1;a;2.5\n', encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(ok('export', 'dfs://n', 't', '--format', 'jsonl')).toBe('{"k":1,"s":"","x":null}\n{"k":1,"s":"a","x":2.5}\n');
  });
});

describe('load of Parquet', () => {
  const parquet = (name: string, price: 'DOUBLE' | 'STRING') => {
    const f = path.join(dir, name);
    const columnData = [
      { name: 'time', data: [new Date(Date.UTC(2012, 0, 1, 9, 30)), new Date(Date.UTC(2012, 0, 2, 9, 31, 0, 1))], type: 'TIMESTAMP' as const },
      { name: 'symbol', data: ['IBM', 'MSFT'], type: 'STRING' as const },
      { name: 'price', data: price === 'DOUBLE' ? [1.5, null] : ['x', 'y'], type: price },
      { name: 'qty', data: [10, null], type: 'INT32' as const },
    ];
    fs.writeFileSync(f, Buffer.from(parquetWriteBuffer({ columnData })));
    return f;
  };

  it('loads columns by name with NULLs, and the export shows them', () => {
    ok('db', 'create', 'dfs://pq', '--partition', 'COMPO(HASH(SYMBOL,4), VALUE(DATE:2012.01.01))');
    ok('table', 'create', 'dfs://pq', 't', '--columns', 'qty:INT,time:TIMESTAMP,symbol:SYMBOL,price:DOUBLE', '--partition-columns', 'symbol,time');
    ok('load', 'dfs://pq', 't', parquet('a.parquet', 'DOUBLE'));
    expect(ok('export', 'dfs://pq', 't').split('\n').sort()).toEqual(['', ',2012.01.02T09:31:00.001,MSFT,', '10,2012.01.01T09:30:00.000,IBM,1.5', 'qty,time,symbol,price']);
  });

  it('a Parquet file with an incompatible schema exits 4 with one line naming file and column, and loads nothing', () => {
    const before = digest('dfs://pq');
    const r = cv('load', 'dfs://pq', 't', parquet('b.parquet', 'STRING'));
    expect(r.code).toBe(4);
    expect(r.errLines).toEqual([expect.stringMatching(/b\.parquet: incompatible schema: column price is BYTE_ARRAY in the file, DOUBLE in table t$/)]);
    expect(digest('dfs://pq')).toEqual(before);
  });
});
