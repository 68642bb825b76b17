import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { waitExit } from '../helpers/child.js';
import { rmTmp, sleep, tmpDir } from '../helpers/tmp.js';

/**
 * A load is atomic across partitions: `kill -9` of the loading process at random moments leaves
 * the table's digest equal to the digest before the load or to the digest with the whole load.
 * The CSV is several 2 MiB pieces, so the kills land in the parallel path (worker threads parsing,
 * the main thread staging and committing).
 */
const DAYS = 6;
const SYMS = ['IBM', 'MSFT', 'GOOG', 'AAPL', 'ORCL', 'SAP', 'FB', 'AMZN'];
let dir: string;
let csv: string;
let n = 0;

function ok(home: string, ...args: string[]): string {
  const r = runCli(['--home', home, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
const digest = (home: string) => (JSON.parse(ok(home, 'db', 'digest', 'dfs://k', '--table', 't', '--json')) as { digest: string }[])[0]!.digest;

/** A fresh home with the table and one earlier load in it. */
function freshHome(): string {
  const home = path.join(dir, `h${n++}`);
  ok(home, 'init', '--nodes', '2');
  ok(home, 'db', 'create', 'dfs://k', '--partition', `COMPO(HASH(SYMBOL,4), VALUE(DATE:2012.01.01..2012.01.0${DAYS}))`);
  ok(home, 'table', 'create', 'dfs://k', 't', '--columns', 'time:TIMESTAMP,symbol:SYMBOL,price:DOUBLE,qty:INT', '--partition-columns', 'symbol,time');
  const first = path.join(dir, 'first.csv');
  fs.writeFileSync(first, 'time,symbol,price,qty\n2012.01.01T09:30:00.000,IBM,1.5,1\n2012.01.02T09:30:00.000,SAP,,\n');
  ok(home, 'load', 'dfs://k', 't', first);
  return home;
}

let before: string;
let after: string;
let loadMs: number;

beforeAll(() => {
  dir = tmpDir('load-kill');
  csv = path.join(dir, 'big.csv');
  const lines = ['time,symbol,price,qty'];
  for (let i = 0; i < 120_000; i++) {
    const d = 1 + (i % DAYS);
    lines.push(`2012.01.0${d}T09:${String(30 + (i % 30)).padStart(2, '0')}:00.${String(i % 1000).padStart(3, '0')},${SYMS[i % SYMS.length]},${(i % 997) / 4},${i}`);
  }
  fs.writeFileSync(csv, lines.join('\n') + '\n');
  expect(fs.statSync(csv).size).toBeGreaterThan(2 * (2 << 20));
  const ref = freshHome();
  before = digest(ref);
  const t0 = performance.now();
  ok(ref, 'load', 'dfs://k', 't', csv);
  loadMs = performance.now() - t0;
  after = digest(ref);
  expect(after).not.toBe(before);
}, 120_000);
afterAll(() => rmTmp(dir));

describe('kill -9 of a load', () => {
  it('at random moments leaves every row of the load visible or none, and the next writer finds the catalog whole', async () => {
    const seen = { before: 0, after: 0 };
    for (let k = 0; k < 6; k++) {
      const home = freshHome();
      const child = spawn(process.execPath, [CLI, '--home', home, 'load', 'dfs://k', 't', csv], { stdio: 'ignore' });
      // Spread over the whole run, the commit at its end included (process start-up takes part of it).
      await sleep(Math.random() * loadMs * 1.1);
      child.kill('SIGKILL');
      await waitExit(child);
      const d = digest(home);
      expect([before, after], `kill ${k}`).toContain(d);
      seen[d === before ? 'before' : 'after']++;
      // The next lock holder finishes a commit the kill interrupted; the catalog then holds no record.
      ok(home, 'table', 'create', 'dfs://k', 'other', '--columns', 'time:TIMESTAMP,symbol:SYMBOL', '--partition-columns', 'symbol,time');
      expect(fs.existsSync(path.join(home, 'catalog', 'k', 'commit.json'))).toBe(false);
      expect(digest(home)).toBe(d);
    }
    expect(seen.before + seen.after).toBe(6);
  }, 180_000);
});
