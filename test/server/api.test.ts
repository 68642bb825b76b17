import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { call, readEvents, sha256, startServer, writeConfig, type Running } from './helpers.js';

const DB = 'dfs://testdb';
const ADMIN = 'cv_admin-token-for-tests-0123456789';
const BOB = 'cv_bob-token-for-tests-9876543210';
let dir: string, home: string, bak: string, srv: Running;

beforeAll(async () => {
  dir = scratchDir('server-api');
  home = path.join(dir, 'home');
  bak = path.join(dir, 'bak');
  await generateQuotes(home, { dates: 2, symbols: 10, rowsPerSymbol: 400, seed: 1, workers: 1 });
  const cfg = writeConfig(
    dir,
    `home = "${home}"\nbody-limit = 2048\n[repositories]\nmain = "${bak}"\n` +
      `[[tokens]]\nuser = "alice"\nadmin = true\nsha256 = "${sha256(ADMIN)}"\n[[tokens]]\nuser = "bob"\nsha256 = "${sha256(BOB)}"\n` +
      `[[databases]]\ndb = "${DB}"\nrepository = "main"\n`,
  );
  srv = await startServer(['--config', cfg]);
});
afterAll(async () => {
  await srv?.stop();
  rmTmp(dir);
});

const jobRecords = () => fs.readdirSync(path.join(home, 'jobs')).filter((f) => f.endsWith('.json')).length;

async function backupThroughApi(token: string, extra: Record<string, unknown> = {}) {
  const r = await call(srv.url, 'POST', '/backup-db', { token, body: { backupDir: bak, dbPath: DB, ...extra } });
  expect(r.status).toBe(202);
  return r.json as { jobId: string; pid: number; log: string; output: string; follow: string };
}

describe('operations through the API', () => {
  it('a backup returns a job id at once and streams progress events until it ends', async () => {
    const started = await backupThroughApi(ADMIN, { maxRate: '1MB' }); // throttled: at full speed the small backup can end before the first progress tick
    expect(Object.keys(started).sort()).toEqual(['follow', 'jobId', 'log', 'output', 'pid']);
    const events = await readEvents(srv.url, started.jobId, ADMIN);
    expect(events.some((e) => e.event === 'progress' && e.data.state === 'running')).toBe(true);
    const end = events[events.length - 1]!;
    expect(end).toMatchObject({ event: 'end', data: { state: 'done', result: { dbPath: DB } } });
  });

  it('a job started through the API is an ordinary background job that `chunkvault jobs` lists', async () => {
    const { jobId } = await backupThroughApi(ADMIN);
    await readEvents(srv.url, jobId, ADMIN);
    const jobs = cliJson<{ jobId: string; userName: string; state: string }[]>(['--home', home, 'jobs']);
    expect(jobs.find((j) => j.jobId === jobId)).toMatchObject({ userName: 'alice', state: 'done' });
    expect(cliJson<{ background: boolean }>(['--home', home, 'job', jobId]).background).toBe(true);
  });

  it('a job started from the CLI is seen by an admin token and hidden (404) from another user', async () => {
    const cliRun = cliJson<{ pointId: string }>(['--home', home, 'backup-db', bak, DB]);
    expect(cliRun.pointId).toBeTruthy();
    const newest = cliJson<{ jobId: string }[]>(['--home', home, 'jobs', '-n', '1'])[0]!;
    expect((await call(srv.url, 'GET', '/jobs', { token: ADMIN })).json.map((j: { jobId: string }) => j.jobId)).toContain(newest.jobId);
    const asBob = await call(srv.url, 'GET', `/jobs/${newest.jobId}`, { token: BOB });
    expect(asBob.status).toBe(404);
  });

  it('a non-admin token sees only the jobs it submitted', async () => {
    const { jobId } = await backupThroughApi(BOB);
    await readEvents(srv.url, jobId, BOB);
    const mine = (await call(srv.url, 'GET', '/jobs', { token: BOB })).json as { jobId: string; userName: string }[];
    expect(mine.map((j) => j.jobId)).toEqual([jobId]);
    expect((await call(srv.url, 'GET', '/status?user=alice', { token: BOB })).status).toBe(400);
  });

  it('cancel stops a running job, which is then recorded as cancelled by the token user', async () => {
    const { jobId } = await backupThroughApi(ADMIN, { force: true, maxRate: '20KB' });
    for (let i = 0; i < 100; i++) {
      const r = await call(srv.url, 'GET', `/jobs/${jobId}`, { token: ADMIN });
      if (r.json.state === 'running' && r.json.tables.length) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const throttled = await call(srv.url, 'POST', `/jobs/${jobId}/throttle`, { token: ADMIN, body: { rate: '30KB' } });
    expect(throttled.json).toMatchObject({ jobId, rate: 30000, applied: true });
    const c = await call(srv.url, 'POST', `/jobs/${jobId}/cancel`, { token: ADMIN, body: { wait: 30 } });
    expect(c.json).toMatchObject({ jobId, requested: true, state: 'cancelled', errorMsg: 'cancelled by alice' });
  });

  it('points, list and prune --dry-run answer with the CLI --json shapes', async () => {
    const q = `backupDir=${encodeURIComponent(bak)}&dbPath=${encodeURIComponent(DB)}`;
    const points = (await call(srv.url, 'GET', `/points?${q}`, { token: ADMIN })).json;
    expect(points).toEqual(cliJson(['points', bak, DB]));
    expect((await call(srv.url, 'GET', `/list?${q}&table=quotes`, { token: ADMIN })).json).toEqual(cliJson(['list', bak, DB, 'quotes']));
    const dry = await call(srv.url, 'POST', '/prune', { token: ADMIN, body: { backupDir: bak, dbPath: DB, keepLast: 1, dryRun: true } });
    expect(dry.json).toMatchObject({ dryRun: true, keptPoints: [points[points.length - 1].pointId] });
    expect((await call(srv.url, 'GET', `/points?${q}`, { token: ADMIN })).json).toHaveLength(points.length);
  });

  it('/metrics reports the last backup, restore points and jobs by state per database', async () => {
    const text = (await call(srv.url, 'GET', '/metrics', { token: ADMIN })).text;
    const n = cliJson<unknown[]>(['points', bak, DB]).length;
    expect(text).toContain(`chunkvault_restore_points{db="${DB}"} ${n}`);
    expect(text).toMatch(new RegExp(`chunkvault_last_backup_timestamp_seconds\\{db="${DB}"\\} 1\\d{9}`));
    expect(text).toMatch(/chunkvault_jobs\{state="done"\} [1-9]/);
    expect(text).toMatch(/chunkvault_stored_bytes\{db="dfs:\/\/testdb"\} [1-9]\d+/);
  });

  it('/openapi.json lists an endpoint for every operation and query', async () => {
    const doc = (await call(srv.url, 'GET', '/openapi.json')).json as { paths: Record<string, object> };
    for (const p of ['/backup', '/backup-db', '/backup-table', '/restore', '/restore-db', '/restore-table', '/migrate', '/check', '/verify', '/points', '/prune', '/list', '/meta', '/status', '/jobs', '/jobs/{id}', '/jobs/{id}/log', '/jobs/{id}/cancel', '/jobs/{id}/throttle', '/jobs/{id}/events', '/metrics'])
      expect(doc.paths, p).toHaveProperty([p]);
  });
});

describe('auth and bad input', () => {
  it('a request without a token, or with an unknown one, is 401 and starts nothing', async () => {
    const before = jobRecords();
    expect((await call(srv.url, 'POST', '/backup-db', { body: { backupDir: bak, dbPath: DB } })).status).toBe(401);
    expect((await call(srv.url, 'POST', '/backup-db', { token: 'cv_wrong', body: { backupDir: bak, dbPath: DB } })).status).toBe(401);
    expect((await call(srv.url, 'GET', '/metrics')).status).toBe(401);
    expect(jobRecords()).toBe(before);
  });

  it('malformed JSON, an oversized body, an unknown key and .. in a value are 400 with one line, and start nothing', async () => {
    const before = jobRecords();
    const bad = [
      await call(srv.url, 'POST', '/backup-db', { token: ADMIN, raw: '{"backupDir": ' }),
      await call(srv.url, 'POST', '/backup-db', { token: ADMIN, body: { backupDir: bak, dbPath: DB, tables: ['x'.repeat(3000)] } }),
      await call(srv.url, 'POST', '/backup-db', { token: ADMIN, body: { backupDir: bak, dbPath: DB, bogusFlag: true } }),
      await call(srv.url, 'POST', '/backup-db', { token: ADMIN, body: { backupDir: `${bak}/../elsewhere`, dbPath: DB } }),
      await call(srv.url, 'POST', '/backup-db', { token: ADMIN, body: { backupDir: path.join(dir, 'not-a-repository'), dbPath: DB } }),
      await call(srv.url, 'GET', `/points?backupDir=${encodeURIComponent(bak + '/../../etc')}&dbPath=x`, { token: ADMIN }),
    ];
    for (const r of bad) {
      expect([400, 413], r.text).toContain(r.status);
      expect(r.json.error.code).toBe('USAGE');
      expect(r.json.error.message).not.toContain('\n');
    }
    expect(bad[2]!.json.error.message).toBe("unknown option '--bogus-flag'");
    expect(jobRecords()).toBe(before);
  });

  it('a traversal in a job id gets the same one-line message as the CLI', async () => {
    const cli = runCli(['--home', home, '--json', 'job', '../../etc/passwd']);
    const api = await call(srv.url, 'GET', `/jobs/${encodeURIComponent('../../etc/passwd')}`, { token: ADMIN });
    expect(api.status).toBe(400);
    expect(api.json).toEqual(JSON.parse(cli.stdout));
  });

  it('no token appears in the server log', () => {
    expect(srv.stderr()).toMatch(/POST \/backup-db 202/);
    for (const t of [ADMIN, BOB, 'cv_wrong']) expect(srv.stderr()).not.toContain(t);
  });

  it('the server refuses to listen beyond loopback when no token is configured', async () => {
    await expect(startServer(['--home', home, '--listen', '0.0.0.0:0'])).rejects.toThrow(/exited 2: chunkvault: refusing to listen on 0.0.0.0 without a token/);
  });
});
