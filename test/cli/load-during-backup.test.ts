import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { waitExit } from '../helpers/child.js';
import { rmTmp, sleep, tmpDir } from '../helpers/tmp.js';

/**
 * A load that runs while a backup runs: the load is not blocked (it finishes while the backup,
 * throttled, is still copying), and the backup's restore point holds the table as of the backup's
 * start. The CSV is several pieces, so the load goes through the parallel (worker) path.
 */
let dir: string;
let home: string;
let csv: string;

function ok(...args: string[]): string {
  const r = runCli(['--home', home, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
const digest = (db: string) => (JSON.parse(ok('db', 'digest', db, '--table', 't', '--json')) as { digest: string }[])[0]!.digest;

beforeAll(() => {
  dir = tmpDir('load-during-backup');
  home = path.join(dir, 'home');
  ok('init', '--nodes', '2');
  ok('db', 'create', 'dfs://k', '--partition', 'COMPO(HASH(SYMBOL,4), VALUE(DATE:2012.01.01..2012.01.04))');
  ok('table', 'create', 'dfs://k', 't', '--columns', 'time:TIMESTAMP,symbol:SYMBOL,price:DOUBLE,qty:INT', '--partition-columns', 'symbol,time');
  const syms = ['IBM', 'MSFT', 'GOOG', 'AAPL', 'ORCL', 'SAP'];
  const rows = (n: number, day0: number) => Array.from({ length: n }, (_, i) => `2012.01.0${1 + ((i + day0) % 4)}T09:30:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')},${syms[i % syms.length]},${(i % 997) / 4},${i}`);
  // The data the backup copies: enough that a 2 MB/s backup takes a few seconds.
  const first = path.join(dir, 'first.csv');
  fs.writeFileSync(first, ['time,symbol,price,qty', ...rows(300_000, 0)].join('\n') + '\n');
  ok('load', 'dfs://k', 't', first);
  csv = path.join(dir, 'more.csv');
  fs.writeFileSync(csv, ['time,symbol,price,qty', ...rows(150_000, 1)].join('\n') + '\n');
  expect(fs.statSync(csv).size).toBeGreaterThan(2 * (2 << 20));
}, 120_000);
afterAll(() => rmTmp(dir));

describe('a load while a backup runs', () => {
  it('is not blocked, and the restore point holds the table as of the backup start', async () => {
    const before = digest('dfs://k');
    const bak = path.join(dir, 'bak');
    const backup = spawn(process.execPath, [CLI, '--home', home, 'backup-db', bak, 'dfs://k', '--max-rate', '2MB'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    backup.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let backupDone = false;
    const backupExit = waitExit(backup).then(({ code }) => ((backupDone = true), code));
    await sleep(800);
    ok('load', 'dfs://k', 't', csv);
    // The load finished while the throttled backup was still copying: it did not wait for it.
    expect(backupDone, 'the backup ended before the load: make it slower').toBe(false);
    const after = digest('dfs://k');
    expect(after).not.toBe(before);
    expect(await backupExit, stderr).toBe(0);
    ok('restore-db', bak, 'dfs://k', 'dfs://k_restored');
    expect(digest('dfs://k_restored')).toBe(before);
    expect(digest('dfs://k')).toBe(after);
  }, 180_000);
});
