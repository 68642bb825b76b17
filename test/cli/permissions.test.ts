import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { getJobStatus, getRecentJobs } from '../../dist/engine/index.js';
import { AS_USER_REASON, NOBODY, canRunCliAs, runCliAs } from '../helpers/as-user.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const CAN = canRunCliAs(NOBODY);
let dir: string;
let home: string;

describe.skipIf(!CAN)(`permission errors (${CAN ? 'run as uid 65534' : AS_USER_REASON})`, () => {
  beforeAll(async () => {
    dir = scratchDir('perm');
    fs.chmodSync(dir, 0o755); // nobody may walk to the homes inside
    home = path.join(dir, 'home');
    await generateQuotes(home, { dates: 1, symbols: 5, rowsPerSymbol: 50, seed: 1, workers: 1 });
  });
  afterAll(() => rmTmp(dir));

  it('a cluster home that exists but cannot be read exits 6 "permission denied", not 3 "does not exist"', () => {
    const locked = path.join(dir, 'locked-home');
    fs.cpSync(home, locked, { recursive: true });
    fs.chmodSync(locked, 0o000);
    for (const cmd of [['db', 'list'], ['jobs'], ['status'], ['backup-db', path.join(dir, 'bak-locked'), 'dfs://testdb']]) {
      const r = runCliAs(NOBODY, ['--home', locked, ...cmd, '--json']);
      expect([cmd.join(' '), r.code], r.stderr).toEqual([cmd.join(' '), 6]);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'IO', exitCode: 6, message: expect.stringContaining('permission denied') } });
    }
  });

  it('a job that fails on EACCES is recorded with exit code 6 and IO in its log, the status the CLI exits with', () => {
    const shared = path.join(dir, 'shared');
    fs.cpSync(home, shared, { recursive: true });
    fs.chmodSync(shared, 0o777);
    for (const d of ['jobs', 'batchJobs']) fs.chmodSync(path.join(shared, d), 0o1777);
    // nobody may create the backup directory's entries, but not write inside the repository root owns.
    const bak = path.join(dir, 'bak');
    fs.mkdirSync(path.join(bak, 'testdb'), { recursive: true });
    fs.chmodSync(bak, 0o777);
    const r = runCliAs(NOBODY, ['--home', shared, 'backup-db', bak, 'dfs://testdb']);
    expect(r.code, r.stderr).toBe(6);
    const [job] = getRecentJobs(shared, { n: 1 }).jobs;
    const rec = getJobStatus(shared, job!.jobId);
    expect([rec.userName, rec.state, rec.exitCode, rec.errorMsg]).toEqual(['nobody', 'failed', 6, expect.stringContaining('permission denied')]);
    expect(fs.readFileSync(rec.logFile, 'utf8')).toMatch(/ IO: .*permission denied.*\n$/);
  });
});
