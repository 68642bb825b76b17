import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { parseConfig, resolveSettings } from '../../dist/server/config.js';
import { cliJson } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { call, startServer, writeConfig } from './helpers.js';

const base = `[repositories]\nmain = "/srv/bak"\n[[databases]]\ndb = "dfs://testdb"\nrepository = "main"\nretention = { keep-daily = 7, keep-weekly = 4 }\n`;

describe('the config file', () => {
  it('reads databases, schedules and a retention policy with restic names', () => {
    const c = parseConfig(base + `[[schedules]]\ncron = "0 2 * * *"\naction = "prune"\ndatabase = "testdb"\n`, 'x.toml');
    expect(c.databases[0]).toMatchObject({ name: 'testdb', dbPath: 'dfs://testdb', retention: { daily: 7, weekly: 4 } });
    expect(c.schedules[0]).toMatchObject({ name: 'prune-testdb', onLocked: 'wait', catchUp: true });
  });

  it('refuses an unknown key, naming it', () => {
    expect(() => parseConfig('colour = "blue"\n' + base, 'x.toml')).toThrow('config: unknown key colour');
    expect(() => parseConfig(base + 'colour = "blue"\n', 'x.toml')).toThrow('config: unknown key databases[0].colour');
  });

  it('a flag beats the environment, which beats the file', () => {
    const c = parseConfig('listen = "127.0.0.1:1000"\nhome = "/file"\n', 'x.toml');
    expect(resolveSettings(c, {}, {})).toMatchObject({ listen: '127.0.0.1:1000', home: '/file' });
    expect(resolveSettings(c, {}, { CHUNKVAULT_LISTEN: '127.0.0.1:2000', CHUNKVAULT_HOME: '/env' })).toMatchObject({ listen: '127.0.0.1:2000', home: '/env' });
    expect(resolveSettings(c, { listen: '127.0.0.1:3000', home: '/flag' }, { CHUNKVAULT_LISTEN: '127.0.0.1:2000', CHUNKVAULT_HOME: '/env' })).toMatchObject({ listen: '127.0.0.1:3000', home: '/flag' });
  });
});

describe('schedules in a running server', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('server-sched');
  });
  afterAll(() => rmTmp(dir));

  it('a backup schedule missed while the server was down runs once at start-up, as a job with --skip-if-unchanged', async () => {
    const home = path.join(dir, 'home');
    const bak = path.join(dir, 'bak');
    await generateQuotes(home, { dates: 1, symbols: 5, rowsPerSymbol: 50, seed: 1, workers: 1 });
    fs.mkdirSync(path.join(home, 'server'));
    fs.writeFileSync(path.join(home, 'server', 'schedules.json'), JSON.stringify({ lastDue: { nightly: Date.parse('2020-01-01T02:00:00Z') } }));
    const cfg = writeConfig(dir, `home = "${home}"\n[repositories]\nmain = "${bak}"\n[[databases]]\ndb = "dfs://testdb"\nrepository = "main"\n[[schedules]]\nname = "nightly"\ncron = "0 2 * * *"\naction = "backup"\ndatabase = "testdb"\n`);
    const srv = await startServer(['--config', cfg]);
    try {
      let jobs: { userName: string; state: string; jobDesc: string }[] = [];
      for (let i = 0; i < 100 && !jobs.some((j) => j.state === 'done'); i++) {
        await new Promise((r) => setTimeout(r, 200));
        jobs = (await call(srv.url, 'GET', '/jobs')).json;
      }
      expect(jobs).toEqual([expect.objectContaining({ userName: 'scheduler', state: 'done' })]);
      expect(cliJson<{ args: string[] }>(['--home', home, 'job', (jobs[0] as unknown as { jobId: string }).jobId]).args).toContain('--skip-if-unchanged');
      expect(cliJson<unknown[]>(['points', bak, 'dfs://testdb'])).toHaveLength(1);
    } finally {
      await srv.stop();
    }
  });
});

describe('chunkvault server (the CLI command)', () => {
  it('starts the server with the global --config and the listen address from CHUNKVAULT_LISTEN, and stops on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../helpers/cli.js');
    const d = scratchDir('server-cli');
    try {
      const home = path.join(d, 'home');
      await generateQuotes(home, { dates: 1, symbols: 2, rowsPerSymbol: 10, seed: 1, workers: 1 });
      const cfg = writeConfig(d, `home = "${home}"\nlisten = "127.0.0.1:1"\n`);
      const p = spawn(process.execPath, [CLI, '--config', cfg, 'server'], { env: { ...process.env, CHUNKVAULT_HOME: undefined, CHUNKVAULT_LISTEN: '127.0.0.1:0' } });
      const line = await new Promise<string>((res, rej) => {
        p.stdout.setEncoding('utf8').once('data', (s: string) => res(s));
        p.once('exit', (c) => rej(new Error(`exited ${c}`)));
      });
      const url = (JSON.parse(line) as { listening: string }).listening;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url).not.toBe('http://127.0.0.1:1'); // the environment beat the file
      expect((await call(url, 'GET', '/health')).json).toEqual({ ok: true });
      const code = await new Promise<number | null>((res) => {
        p.once('exit', (c) => res(c));
        p.kill('SIGTERM');
      });
      expect(code).toBe(0);
    } finally {
      rmTmp(d);
    }
  });
});
