import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
let home: string;
let bak: string;
function ok(...args: string[]): string {
  const r = runCli(['--home', home, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
const digest = (db: string, table: string) => {
  const d = (JSON.parse(ok('db', 'digest', db, '--table', table, '--json')) as { digest: string; rows: number }[])[0]!;
  return { digest: d.digest, rows: d.rows };
};

beforeAll(() => {
  dir = scratchDir('roundtrip');
  home = path.join(dir, 'h');
  bak = path.join(dir, 'bak');
  ok('generate', '--dates', '2', '--symbols', '6', '--rows-per-symbol', '40', '--workers', '1');
}, 60_000);
afterAll(() => rmTmp(dir));

describe('generate -> export CSV -> load into a new database', () => {
  for (const [db, table] of [['dfs://testdb', 'quotes'], ['dfs://testdb_tsdb', 'quotes_tsdb']] as const) {
    it(`gives an equal digest for ${table} (${db.endsWith('tsdb') ? 'TSDB' : 'OLAP'})`, () => {
      const copy = `${db}_copy`;
      const csv = path.join(dir, `${table}.csv`);
      ok('db', 'create', copy, '--like', db);
      ok('table', 'create', copy, table, '--like', `${db}/${table}`);
      ok('export', db, table, '-o', csv);
      ok('load', copy, table, csv);
      expect(digest(copy, table)).toEqual(digest(db, table));
    });
  }
});

const TYPES = ['BOOL', 'INT', 'LONG', 'DATE', 'MONTH', 'TIME', 'TIMESTAMP', 'FLOAT', 'DOUBLE', 'SYMBOL', 'STRING'];

describe('NULLs of every type', () => {
  it('survive load, backup, restore, verify and export exactly', () => {
    ok('db', 'create', 'dfs://nulls', '--partition', 'VALUE(INT: 1 2)');
    ok('table', 'create', 'dfs://nulls', 't', '--columns', ['k:INT', ...TYPES.map((t) => `c${t}:${t}`)].join(','), '--partition-columns', 'k');
    const header = ['k', ...TYPES.map((t) => `c${t}`)].join(',');
    const full = '1,true,-7,9000000000000,2012.01.01,2012.01M,09:30:00.000,2012.01.01T09:30:00.001,1.5,-2.25,IBM,"a, b"';
    const csv = path.join(dir, 'nulls.csv');
    fs.writeFileSync(csv, `${header}\n${full}\n2${',' .repeat(TYPES.length)}\n`);
    ok('load', 'dfs://nulls', 't', csv);
    const exported = ok('export', 'dfs://nulls', 't');
    expect(exported).toBe(`${header}\n${full}\n2${','.repeat(TYPES.length)}\n`);
    ok('backup-db', bak, 'dfs://nulls');
    ok('restore-db', bak, 'dfs://nulls', 'dfs://nulls2');
    ok('verify', bak, 'dfs://nulls', 'dfs://nulls2');
    expect(digest('dfs://nulls2', 't')).toEqual(digest('dfs://nulls', 't'));
    expect(ok('export', 'dfs://nulls2', 't')).toBe(exported);
    const json = ok('export', 'dfs://nulls2', 't', '--format', 'jsonl', '--partition', '/2').trim();
    expect(JSON.parse(json)).toEqual({ k: 2, ...Object.fromEntries(TYPES.map((t) => [`c${t}`, t === 'SYMBOL' || t === 'STRING' ? '' : null])) });
  });
});

describe("the tutorial's restore --output-table", () => {
  it('restores into a table made with table create --like', () => {
    const b = path.join(dir, 'bak-out');
    ok('backup-table', b, 'dfs://testdb', 'quotes');
    ok('table', 'create', 'dfs://testdb', 'quotes_restored', '--like', 'dfs://testdb/quotes');
    ok('restore', b, 'dfs://testdb', 'quotes', '%', '--output-table', 'quotes_restored');
    expect(digest('dfs://testdb', 'quotes_restored')).toEqual(digest('dfs://testdb', 'quotes'));
    expect(ok('export', 'dfs://testdb', 'quotes_restored')).toBe(ok('export', 'dfs://testdb', 'quotes'));
  });
});
