import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { getJobStatus, scanRecords, type StatusRow } from '../../dist/engine/index.js';
import { CLI } from '../helpers/cli.js';
import { isRoot, rmTmp, sleep, scratchDir as tmpDir } from '../helpers/tmp.js';

const NOBODY = 65534; // submits jobs
const OTHER = 65533; // another non-admin user (no passwd entry: named "uid:65533")
/** Other uids must be able to read the checkout (a clone under a 0700 directory is not). */
function otherUidsCanRunCli(): boolean {
  if (!isRoot) return false;
  const r = spawnSync(process.execPath, [CLI, '--version'], { uid: NOBODY, gid: NOBODY, cwd: '/', timeout: 30_000 });
  return r.status === 0;
}
const CAN = otherUidsCanRunCli();
const REASON = !isRoot ? 'skipped: needs root to run the CLI as other uids' : 'skipped: uid 65534 cannot read this checkout (a parent directory is not traversable)';

let dir: string;
let home: string;
let bak: string;

function runAs(uid: number, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, '--home', home, ...args], {
    uid,
    gid: uid,
    encoding: 'utf8',
    cwd: '/',
    env: { ...process.env, CHUNKVAULT_HOME: undefined, HOME: '/tmp' },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const jsonAs = <T>(uid: number, args: string[]): T => {
  const r = runAs(uid, [...args, '--json']);
  if (r.code !== 0) throw new Error(`uid ${uid}: ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

describe.skipIf(!CAN)(`users and job visibility (${CAN ? 'as root' : REASON})`, () => {
  beforeAll(async () => {
    dir = tmpDir('jobs-users');
    home = path.join(dir, 'home');
    bak = path.join(dir, 'bak');
    await generateQuotes(home, { dates: 2, symbols: 10, rowsPerSymbol: 100, seed: 1, workers: 1 });
    fs.mkdirSync(bak);
    // Let the other users work in this cluster and backup directory (tmpDir is 0700).
    execFileSync('chmod', ['-R', 'a+rwX', dir]);
    // Root touching the job commands makes the shared directories 1777 (sticky) as documented.
    expect(runAs(0, ['jobs']).code).toBe(0);
    for (const d of ['jobs', 'batchJobs']) expect(fs.statSync(path.join(home, d)).mode & 0o7777).toBe(0o1777);
  });
  afterAll(() => rmTmp(dir));

  it('a job submitted by one non-root uid is recorded under that user, hidden from another non-admin uid, and visible to root', async () => {
    const sub = runAs(NOBODY, ['backup-db', bak, 'dfs://testdb', '--background']);
    expect(sub.code, sub.stderr).toBe(0);
    const id = sub.stdout.trim();
    for (let i = 0; getJobStatus(home, id).state !== 'done'; i++) {
      expect(i, JSON.stringify(getJobStatus(home, id))).toBeLessThan(300);
      await sleep(100);
    }
    const rec = fs.statSync(path.join(home, 'jobs', `${id}.json`));
    expect([rec.uid, rec.mode & 0o777]).toEqual([NOBODY, 0o600]);
    expect(fs.statSync(path.join(home, 'batchJobs', `${id}.msg`)).uid).toBe(NOBODY);

    // The submitter sees it.
    expect(jsonAs<{ jobId: string; userName: string }[]>(NOBODY, ['jobs']).map((j) => [j.jobId, j.userName])).toEqual([[id, 'nobody']]);
    // Another non-admin user does not: not in jobs or status, and job/job-log/cancel say "not found".
    expect(jsonAs<unknown[]>(OTHER, ['jobs'])).toEqual([]);
    expect(jsonAs<StatusRow[]>(OTHER, ['status'])).toEqual([]);
    for (const cmd of [['job', id], ['job-log', id], ['cancel', id]]) expect(runAs(OTHER, cmd).code).toBe(3);
    expect(runAs(OTHER, ['status', '--user', 'nobody']).code).toBe(2);
    // Root (an admin) sees it, in everyone's rows and with --user.
    const all = jsonAs<StatusRow[]>(0, ['status']);
    expect(all.filter((r) => r.jobId === id).map((r) => [r.userName, r.tableName, r.completed])).toEqual([
      ['nobody', 'quotes', 1],
      ['nobody', 'quotes_2', 1],
    ]);
    expect(new Set(jsonAs<StatusRow[]>(0, ['status', '--user', 'nobody']).map((r) => r.userName))).toEqual(new Set(['nobody']));
    expect(jsonAs<StatusRow[]>(0, ['status', '--user', 'someone-else'])).toEqual([]);
    expect(runAs(0, ['job-log', id]).stdout).toMatch(/The job is done\.\n$/);
  });

  it("root cancels another user's running job, while cancel requests planted by a third user are ignored", async () => {
    const sub = runAs(NOBODY, ['backup-db', path.join(dir, 'bak-cancel'), 'dfs://testdb', '--max-rate', '10KB', '--background']);
    expect(sub.code, sub.stderr).toBe(0);
    const id = sub.stdout.trim();
    for (let i = 0; !(getJobStatus(home, id).state === 'running' && getJobStatus(home, id).bytesDone > 0); i++) {
      expect(i).toBeLessThan(200);
      await sleep(50);
    }
    // The third user writes requests under its own uid and under the owner's uid, bypassing the CLI.
    const plant = `const fs = require('fs'); for (const u of [${OTHER}, ${NOBODY}]) fs.writeFileSync(${JSON.stringify(path.join(home, 'jobs', id))} + '.ctl-' + u, JSON.stringify({ cancel: { by: 'mallory', at: new Date().toISOString() } }));`;
    const planted = spawnSync(process.execPath, ['-e', plant], { uid: OTHER, gid: OTHER, encoding: 'utf8' });
    expect(planted.status, planted.stderr).toBe(0);
    await sleep(800);
    expect(getJobStatus(home, id).state).toBe('running');
    const c = runAs(0, ['cancel', id, '--wait', '20']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('cancelled: cancelled by root');
    expect(getJobStatus(home, id)).toMatchObject({ state: 'cancelled', userName: 'nobody', exitCode: 9 });
  });

  it("a record whose file owner is not the uid it names is ignored (nobody can plant another user's job in the shared directory)", () => {
    const id = '20200101T000000Z-0badc0de';
    const forged = { format: 1, jobId: id, jobDesc: 'forged', type: 'BACKUP_BY_COPY_FILE', node: 'x', userName: 'nobody', uid: NOBODY, receivedTime: '2020-01-01T00:00:00Z', state: 'done', background: false, args: [], bytesDone: 0, bytesTotal: 0, tables: [] };
    fs.writeFileSync(path.join(home, 'jobs', `${id}.json`), JSON.stringify(forged), { mode: 0o644 });
    expect(scanRecords(home).records.map((r) => r.jobId)).not.toContain(id);
    expect(runAs(NOBODY, ['job', id]).code).toBe(3);
  });
});
