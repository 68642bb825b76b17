import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { getBackupStatus, getJobStatus, type JobRecord, type StatusRow } from '../../dist/engine/index.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, sleep, scratchDir as tmpDir } from '../helpers/tmp.js';


let dir: string;
let home: string;
const DB = 'dfs://testdb';
const ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

const cv = (...args: string[]) => runCli(['--home', home, ...args]);

/**
 * Submits a background backup of testdb into its own directory and returns the job id. A v1
 * repository: these tests watch progress per partition, which a v2 backup reports per pack.
 */
function submit(bak: string, rate: string): string {
  const r = cv('backup-db', bak, DB, '--max-rate', rate, '--background', '--repo-format', '1');
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  expect(id).toMatch(ID_RE);
  return id;
}

/** Polls the job's record (written by the job's own process) until pred holds. */
async function waitJob(id: string, pred: (r: JobRecord) => boolean, timeoutMs = 30_000): Promise<JobRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = getJobStatus(home, id);
    if (pred(r)) return r;
    if (Date.now() > end) throw new Error(`job ${id} did not reach the expected state: ${JSON.stringify(r)}`);
    await sleep(100);
  }
}

const running = (r: JobRecord) => r.state === 'running';
const lastLine = (text: string) => text.trim().split('\n').at(-1)!;

beforeAll(async () => {
  dir = tmpDir('jobs');
  home = path.join(dir, 'home');
  // testdb: 20 table partitions, about 3.8 MB: a few seconds at 1 MB/s.
  await generateQuotes(home, { dates: 2, symbols: 50, rowsPerSymbol: 1000, seed: 1, workers: 1 });
});

afterAll(() => rmTmp(dir));

describe('background jobs', () => {
  it('a background backup returns its id at once, shows in status with completedPartitions rising and an endTime estimate, then completed=1, and its .msg ends with "The job is done."', async () => {
    const t0 = Date.now();
    const id = submit(path.join(dir, 'bak-status'), '1MB');
    expect(Date.now() - t0).toBeLessThan(5000);
    const samples: StatusRow[][] = [];
    for (;;) {
      const rows = getBackupStatus(home).filter((r) => r.jobId === id);
      samples.push(rows);
      if (rows.length && rows.every((r) => r.completed === 1)) break;
      expect(rows.every((r) => r.state !== 'failed')).toBe(true);
      expect(Date.now() - t0).toBeLessThan(40_000);
      await sleep(150);
    }
    const progress = samples.filter((s) => s.length && s[0]!.state === 'running').map((s) => s.reduce((a, r) => a + r.completedPartitions, 0));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBeGreaterThanOrEqual(3);
    const estimates = samples.flat().filter((r) => r.state === 'running' && r.completedPartitions > 0 && r.completedPartitions < r.totalPartitions);
    expect(estimates.length).toBeGreaterThan(0);
    for (const r of estimates) expect(Date.parse(r.endTime!)).toBeGreaterThan(Date.parse(r.startTime!));

    const final = cliJson<StatusRow[]>(['--home', home, 'status']).filter((r) => r.jobId === id);
    expect(final.map((r) => [r.userName, r.type, r.dbName, r.tableName, r.totalPartitions, r.completedPartitions, r.percentComplete, r.completed])).toEqual([
      ['root', 'BACKUP_BY_COPY_FILE', DB, 'quotes', 10, 10, 100, 1],
      ['root', 'BACKUP_BY_COPY_FILE', DB, 'quotes_2', 10, 10, 100, 1],
    ]);
    const log = cv('job-log', id).stdout;
    expect(log.split('\n')[0]).toMatch(new RegExp(`^\\S+ Start the job \\[${id}\\]: backup ${DB} to `));
    expect(lastLine(log)).toMatch(/ The job is done\.$/);
    const jobs = cliJson<{ jobId: string; state: string; endTime: string; userName: string }[]>(['--home', home, 'jobs', '-n', '1']);
    expect(jobs).toMatchObject([{ jobId: id, state: 'done', userName: 'root' }]);
    expect((getJobStatus(home, id).result as { partitions: number }).partitions).toBe(20);
  });

  it('a kill -9 of the job process shows as failed ("process died") in jobs and status, and a rerun completes', async () => {
    const bak = path.join(dir, 'bak-kill');
    const id = submit(bak, '300KB');
    const r = await waitJob(id, (x) => running(x) && x.bytesDone > 0);
    process.kill(r.pid!, 'SIGKILL');
    await sleep(300);
    const jobs = cliJson<{ jobId: string; state: string; errorMsg: string }[]>(['--home', home, 'jobs']).find((j) => j.jobId === id)!;
    expect(jobs.state).toBe('failed');
    expect(jobs.errorMsg).toMatch(/process died/);
    const rows = cliJson<StatusRow[]>(['--home', home, 'status']).filter((x) => x.jobId === id);
    expect(rows.map((x) => [x.state, x.completed])).toEqual([
      ['failed', 0],
      ['failed', 0],
    ]);
    const rerun = cv('backup-db', bak, DB, '--json');
    expect(rerun.code, rerun.stderr).toBe(0);
  });

  it('cancel stops a running job between blocks: the record says cancelled (exit code 9), the lock is released, and a rerun resumes from the journal and completes', async () => {
    const bak = path.join(dir, 'bak-cancel');
    const id = submit(bak, '1MB');
    await waitJob(id, (x) => running(x) && x.tables.reduce((a, t) => a + t.completedPartitions, 0) >= 2);
    const t = Date.now();
    const c = cv('cancel', id, '--wait', '20');
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/cancelled: cancelled by root/);
    const rec = getJobStatus(home, id);
    expect([rec.state, rec.exitCode, rec.errorMsg]).toEqual(['cancelled', 9, 'cancelled by root']);
    expect(Date.parse(rec.endTime!) - t).toBeLessThan(5000);
    expect(lastLine(cv('job-log', id).stdout)).toMatch(/CANCELLED: cancelled by root$/);
    expect(fs.existsSync(path.join(bak, 'testdb', 'lock'))).toBe(false);
    const rerun = cv('backup-db', bak, DB, '--json');
    expect(rerun.code, rerun.stderr).toBe(0);
    const res = JSON.parse(rerun.stdout) as { partitions: number; skipped: number };
    expect(res.skipped).toBeGreaterThanOrEqual(2);
    expect(res.partitions + res.skipped).toBe(20);
    expect(cv('cancel', id).code).toBe(4); // no longer running
  });

  it("throttle lowers a running job's measured rate live", async () => {
    const id = submit(path.join(dir, 'bak-throttle'), '600KB');
    const first = await waitJob(id, (x) => running(x) && x.bytesDone > 0);
    const rate = async (ms: number) => {
      const a = getJobStatus(home, id);
      const ta = Date.now();
      await sleep(ms);
      const b = getJobStatus(home, id);
      return (b.bytesDone - a.bytesDone) / ((Date.now() - ta) / 1000);
    };
    expect(first.maxRate).toBe(600_000);
    const before = await rate(1000);
    const th = cv('throttle', id, '50KB');
    expect(th.code, th.stderr).toBe(0);
    expect(th.stdout).toContain('rate limit now 50.0 KB/s');
    await sleep(300);
    const after = await rate(1500);
    expect(getJobStatus(home, id).maxRate).toBe(50_000);
    expect(before).toBeGreaterThan(300_000);
    expect(after).toBeLessThan(before / 3);
    expect(lastLine(cv('cancel', id, '--wait').stdout)).toMatch(/cancelled/);
  });

  it('--background needs a cluster home and a long command; job commands refuse bad or unknown ids', () => {
    const noHome = runCli(['backup-db', path.join(dir, 'x'), DB, '--background']);
    expect([noHome.code, noHome.errLines.length]).toEqual([2, 1]);
    const list = cv('list', path.join(dir, 'bak-status'), DB, 'quotes', '--background');
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('--background applies only to');
    expect(cv('job', '../../etc/passwd').code).toBe(2);
    expect(cv('job', '20200101T000000Z-00000000').code).toBe(3);
  });

  it('job records and logs are 0600; the shared jobs directories are 1777 (sticky)', () => {
    for (const d of ['jobs', 'batchJobs']) expect(fs.statSync(path.join(home, d)).mode & 0o7777).toBe(0o1777);
    const files = [...fs.readdirSync(path.join(home, 'jobs')).map((f) => path.join(home, 'jobs', f)), ...fs.readdirSync(path.join(home, 'batchJobs')).map((f) => path.join(home, 'batchJobs', f))];
    expect(files.length).toBeGreaterThan(8);
    for (const f of files.filter((f) => !/\.ctl-\d+$/.test(f))) expect([f, fs.statSync(f).mode & 0o777]).toEqual([f, 0o600]);
  });
});
