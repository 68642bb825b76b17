import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { getJobStatus, type JobRecord } from '../../dist/engine/index.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir, sleep } from '../helpers/tmp.js';

let dir: string;
let src: string;
let bak: string;
const DB = 'dfs://testdb';

async function waitEnded(home: string, id: string): Promise<JobRecord> {
  for (let i = 0; i < 300; i++) {
    const r = getJobStatus(home, id);
    if (r.state !== 'queued' && r.state !== 'running') return r;
    await sleep(100);
  }
  throw new Error(`job ${id} did not end`);
}

beforeAll(async () => {
  dir = scratchDir('runop');
  src = path.join(dir, 'src');
  bak = path.join(dir, 'bak');
  await generateQuotes(src, { dates: 1, symbols: 5, rowsPerSymbol: 50, seed: 1, workers: 1 });
  cliJson(['--home', src, 'backup-db', bak, DB]);
});
afterAll(() => rmTmp(dir));

describe('--background', () => {
  it('restore-db into a home that does not exist lays it out and restores, exactly as the same command in the foreground', async () => {
    const fg = path.join(dir, 'new-fg');
    const bg = path.join(dir, 'new-bg');
    expect(runCli(['--home', fg, 'restore-db', bak, DB]).code).toBe(0);
    const sub = runCli(['--home', bg, 'restore-db', bak, DB, '--background']);
    expect(sub.code, sub.stderr).toBe(0);
    expect(await waitEnded(bg, sub.stdout.trim())).toMatchObject({ state: 'done', exitCode: 0 });
    const digest = (home: string) => cliJson(['--home', home, 'db', 'digest', DB]);
    expect(digest(bg)).toEqual(digest(fg));
  });

  it('prints only the job id on stdout, and on stderr the command that follows the job', async () => {
    const sub = runCli(['--home', src, 'backup-db', path.join(dir, 'bak2'), DB, '--background']);
    const id = sub.stdout.trim();
    expect(sub.stdout).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}\n$/);
    expect(sub.stderr).toContain(`follow it with: chunkvault --home ${src} job ${id}`);
    await waitEnded(src, id);
  });
});
