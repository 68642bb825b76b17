import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
let home: string;
const ids: string[] = [];
const cv = (...args: string[]) => runCli(['--home', home, ...args]);

beforeAll(async () => {
  dir = scratchDir('job-cmds');
  home = path.join(dir, 'home');
  await generateQuotes(home, { dates: 1, symbols: 5, rowsPerSymbol: 50, seed: 1, workers: 1 });
  // Long backup directories make long job descriptions, which must wrap rather than widen the table.
  for (const n of [1, 2, 3]) {
    cliJson(['--home', home, 'backup-db', path.join(dir, `a-rather-long-directory-name-for-backups-number-${n}`, 'x'.repeat(40)), 'dfs://testdb']);
    ids.unshift((cliJson(['--home', home, 'jobs', '-n', '1']) as { jobId: string }[])[0]!.jobId);
  }
});
afterAll(() => rmTmp(dir));

describe('jobs and status', () => {
  it('jobs and status text fit in 80 columns, with each long description wrapped below its row', () => {
    for (const cmd of [['jobs'], ['status']]) {
      const r = cv(...cmd);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines.filter((l) => l.length > 80)).toEqual([]);
      expect(lines.filter((l) => l.startsWith('  ')).length).toBeGreaterThanOrEqual(3);
    }
    expect(cv('jobs').stdout).toContain('x'.repeat(40).slice(0, 30));
  });

  it('status lists newest first, and -n keeps the rows of the newest n jobs', () => {
    const rows = cliJson(['--home', home, 'status']) as { jobId: string }[];
    expect([...new Set(rows.map((r) => r.jobId))]).toEqual(ids);
    const newest = cliJson(['--home', home, 'status', '-n', '1']) as { jobId: string; tableName: string }[];
    expect(newest.map((r) => [r.jobId, r.tableName])).toEqual([
      [ids[0], 'quotes'],
      [ids[0], 'quotes_2'],
    ]);
  });

  it('jobs -n lists the newest n jobs, newest first', () => {
    expect((cliJson(['--home', home, 'jobs', '-n', '2']) as { jobId: string }[]).map((j) => j.jobId)).toEqual(ids.slice(0, 2));
  });
});
