import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

/**
 * The parallel CSV path (2 MiB pieces parsed in worker threads) against the serial one
 * (--workers 0): the same rows, and the same one-line error naming the line in the file when the
 * bad row is deep in a later piece, also when quoted fields hold delimiters and newlines.
 */
let dir: string;
let home: string;
let n = 0;
const SYMS = ['IBM', 'MSFT', 'GOOG', 'AAPL', 'ORCL', 'SAP'];

function cli(...args: string[]) {
  return runCli(['--home', home, ...args]);
}
function ok(...args: string[]): string {
  const r = cli(...args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
function table(): string {
  const db = `dfs://p${n++}`;
  ok('db', 'create', db, '--partition', 'COMPO(HASH(SYMBOL,4), VALUE(DATE:2012.01.01..2012.01.03))');
  ok('table', 'create', db, 't', '--columns', 'time:TIMESTAMP,symbol:SYMBOL,note:STRING,price:DOUBLE,qty:INT', '--partition-columns', 'symbol,time');
  return db;
}
const digest = (db: string) => (JSON.parse(ok('db', 'digest', db, '--json')) as { digest: string }[])[0]!.digest;

/** Lines of CSV; every 1000th row has a quoted note with a comma and a newline (one extra line). */
function csvLines(rows: number): string[] {
  const lines = ['time,symbol,note,price,qty'];
  for (let i = 0; i < rows; i++) {
    const note = i % 1000 === 0 ? `"a, ""quoted""\nnote ${i}"` : `n${i % 50}`;
    lines.push(`2012.01.0${1 + (i % 3)}T09:30:${String(i % 60).padStart(2, '0')}.000,${SYMS[i % SYMS.length]},${note},${(i % 997) / 8},${i}`);
  }
  return lines;
}

beforeAll(() => {
  dir = tmpDir('load-parallel');
  home = path.join(dir, 'home');
  ok('init');
}, 60_000);
afterAll(() => rmTmp(dir));

describe('a parallel load', () => {
  it('gives the digest a serial load gives, with quoted fields holding delimiters and newlines', () => {
    const csv = path.join(dir, 'all.csv');
    fs.writeFileSync(csv, csvLines(200_000).join('\n') + '\n');
    expect(fs.statSync(csv).size).toBeGreaterThan(3 * (2 << 20));
    const a = table();
    const b = table();
    ok('load', a, 't', csv);
    ok('load', b, 't', csv, '--workers', '0');
    expect(digest(a)).toBe(digest(b));
  }, 120_000);

  it('names the line in the file of a bad value deep in a later piece, as the serial load does, and loads nothing', () => {
    const lines = csvLines(200_000);
    // Line numbers count the newline inside every 1000th note.
    const at = 170_000;
    lines[at] = lines[at]!.replace(/,(\d+)$/, ',12x');
    const csv = path.join(dir, 'bad.csv');
    fs.writeFileSync(csv, lines.join('\n') + '\n');
    const line = at + 1 + Math.ceil(at / 1000);
    const db = table();
    for (const workers of [[], ['--workers', '0']]) {
      const r = cli('load', db, 't', csv, ...workers);
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([`chunkvault: ${csv}:${line}: column qty: "12x" is not a INT`]);
    }
    expect(JSON.parse(ok('db', 'digest', db, '--json'))[0].rows).toBe(0);
  }, 120_000);
});
