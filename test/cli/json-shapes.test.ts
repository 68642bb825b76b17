import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJobStatus } from '../../dist/engine/index.js';
import { runCli } from '../helpers/cli.js';
import { docShapes, expectShape } from '../helpers/doc-shapes.js';
import { listFiles, rmTmp, scratchDir, sleep } from '../helpers/tmp.js';

const DB = 'dfs://testdb';
/** Documented outputs this file does not produce, and why. */
const NOT_RUN: Record<string, string> = {
  bench: 'takes minutes; its result is validated by test/bench/harness.test.ts',
  plan: 'takes minutes (it measures samples of several GB); its projection is tested by test/bench/plan-model.test.ts',
  demo: 'checked by test/cli/demo.test.ts, which runs it anyway',
  server: 'runs until stopped; test/server/helpers.ts reads its start-up line in every server test',
};

let dir: string;
let home: string;
let bak: string;
/** The parsed --json output of each documented command (keyed as docs/CLI.md names it). */
const out: Record<string, unknown> = {};

/** Runs the CLI with --json in `home`, expects `code`, and returns stdout parsed. */
function json(args: string[], code = 0, env: Record<string, string> = {}): unknown {
  const r = runCli(['--home', home, ...args, '--json'], env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  return JSON.parse(r.stdout) as unknown;
}

async function waitFor(id: string, pred: (r: ReturnType<typeof getJobStatus>) => boolean): Promise<void> {
  for (let i = 0; !pred(getJobStatus(home, id)); i++) {
    expect(i, JSON.stringify(getJobStatus(home, id))).toBeLessThan(300);
    await sleep(100);
  }
}

/** Store, backup and restore commands on a small generated cluster. */
function runDataCommands(): void {
  out['init'] = json(['--home', path.join(dir, 'empty-home'), 'init']);
  out['generate'] = json(['generate', '--dates', '1', '--symbols', '5', '--rows-per-symbol', '50', '--workers', '1']);
  out['db list'] = json(['db', 'list']);
  out['db describe'] = json(['db', 'describe', DB]);
  out['db partitions'] = json(['db', 'partitions', DB]);
  out['db digest'] = json(['db', 'digest', DB]);
  out['db digest --partitions'] = json(['db', 'digest', DB, '--partitions']);
  out['backup'] = json(['backup', bak, DB, '--table', 'quotes']);
  out['backup-db'] = json(['backup-db', bak, DB]);
  out['backup-table'] = json(['backup-table', bak, DB, 'quotes_2', '--force']);
  out['points'] = json(['points', bak, DB]);
  const list = json(['list', bak, DB, 'quotes']) as { chunkPath: string }[];
  out['list'] = list;
  out['meta'] = json(['meta', bak, DB, list[0]!.chunkPath.replace(/^\/testdb/, '').replace(/\/g[A-Z]+$/, ''), 'quotes']);
  out['check'] = json(['check', bak, DB]);
  runAllDatabases();
  out['check --sample'] = json(['check', bak, DB, '--sample', '50']);
  out['verify'] = json(['verify', bak, DB]);
  out['restore'] = json(['restore', bak, DB, 'quotes', '%', '--force']);
  out['restore-db'] = json(['restore-db', bak, DB, 'dfs://r1']);
  out['restore-table'] = json(['restore-table', bak, DB, 'quotes', 'dfs://r2']);
  out['migrate'] = json(['migrate', bak, DB, 'quotes', 'dfs://m1']);
  out['prune'] = json(['prune', bak, DB, '--keep-last', '2']);
  const v2 = path.join(dir, 'bak-v2');
  json(['backup-db', v2, DB, '--repo-format', '2']);
  out['copy'] = json(['copy', v2, path.join(dir, 'bak-copy'), DB]);
  runLoadCommands();
  out['server-token'] = json(['server-token', '--user', 'ops', '--admin']);
  out['any failing command'] = json(['db', 'describe', 'dfs://nope'], 3);
}

/** backup-all and check of every database; a repository locked by this (live) process makes one database fail. */
function runAllDatabases(): void {
  const all = path.join(dir, 'bak-all');
  out['backup-all'] = json(['backup-all', all]);
  out['check (every database)'] = json(['check', all]);
  const partial = path.join(dir, 'bak-all-partial');
  fs.mkdirSync(path.join(partial, 'testdb'), { recursive: true });
  fs.writeFileSync(path.join(partial, 'testdb', 'lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString(), holder: 'job shapes' }));
  out['backup-all (a database failed)'] = json(['backup-all', partial], 10);
}

/** The data path: create, load, export, head and the drops, on a copy of the generated database. */
function runLoadCommands(): void {
  const csv = path.join(dir, 'quotes.csv');
  out['db create'] = json(['db', 'create', 'dfs://made', '--like', DB]);
  out['table create'] = json(['table', 'create', 'dfs://made', 'quotes', '--like', `${DB}/quotes`]);
  out['export'] = json(['export', DB, 'quotes', '-o', csv]);
  out['load'] = json(['load', 'dfs://made', 'quotes', csv]);
  out['db head'] = json(['db', 'head', 'dfs://made', 'quotes', '-n', '3']);
  const parts = json(['db', 'partitions', 'dfs://made']) as { path: string }[];
  out['drop-partition'] = json(['drop-partition', 'dfs://made', parts[0]!.path, '--table', 'quotes', '--yes']);
  out['drop-table'] = json(['drop-table', 'dfs://made', 'quotes', '--yes']);
  out['drop-db'] = json(['drop-db', 'dfs://made', '--yes']);
}

/** check and verify with something to report: a flipped byte in the repository, a target missing a table. */
function runDamagedCommands(): void {
  const bakD = path.join(dir, 'bak-damaged');
  json(['backup-db', bakD, DB, '--repo-format', '1']);
  const file = path.join(bakD, listFiles(bakD).find((f) => f.endsWith('.col'))!);
  const buf = fs.readFileSync(file);
  buf[buf.length - 1]! ^= 0xff;
  fs.writeFileSync(file, buf);
  out['check (damaged)'] = json(['check', bakD, DB], 8);
  out['verify (damaged)'] = json(['verify', bak, DB, 'dfs://r2'], 8); // r2 holds quotes only
}

/** Repository and key commands on an encrypted repository. */
function runRepoCommands(): void {
  const repo = path.join(dir, 'repo-v2');
  const env = { CHUNKVAULT_PASSWORD: 'shape-password', CHUNKVAULT_NEW_PASSWORD: 'shape-new-password' };
  out['repo init'] = json(['repo', 'init', repo], 0, env);
  out['repo info'] = json(['repo', 'info', repo], 0, env);
  const added = json(['key', 'add', repo], 0, env) as { id: string };
  out['key add'] = added;
  out['key list'] = json(['key', 'list', repo], 0, env);
  out['key remove'] = json(['key', 'remove', repo, added.id], 0, env);
  out['key passwd'] = json(['key', 'passwd', repo], 0, env);
}

/** Job commands, with a slow background backup to throttle and cancel. */
async function runJobCommands(): Promise<void> {
  const sub = json(['backup-db', path.join(dir, 'bak-slow'), DB, '--max-rate', '4KB', '--background']) as { jobId: string };
  out['--background'] = sub;
  await waitFor(sub.jobId, (r) => r.state === 'running' && r.bytesDone > 0);
  out['throttle'] = json(['throttle', sub.jobId, '3KB']);
  out['cancel'] = json(['cancel', sub.jobId, '--wait', '20']);
  out['jobs'] = json(['jobs']);
  const done = (out['jobs'] as { jobId: string; jobDesc: string }[]).find((j) => j.jobDesc.startsWith('restore-db'))!;
  out['job'] = json(['job', done.jobId]);
  out['job-log'] = json(['job-log', done.jobId]);
  out['status'] = json(['status']);
}

beforeAll(async () => {
  dir = scratchDir('json-shapes');
  home = path.join(dir, 'home');
  bak = path.join(dir, 'bak');
  runDataCommands();
  runDamagedCommands();
  runRepoCommands();
  await runJobCommands();
}, 180_000);
afterAll(() => rmTmp(dir));

describe('--json output has the keys docs/CLI.md lists', () => {
  const rows = docShapes();

  it('docs/CLI.md lists a shape for every command of the CLI', () => {
    const help = (args: string[]) => runCli([...args, '--help']).stdout.split('Commands:\n')[1]!.split('\n\n')[0]!;
    const names = (text: string) => [...text.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
    const groups = ['db', 'table', 'repo', 'key'];
    const commands = [...names(help([])).filter((n) => !groups.includes(n)), ...groups.flatMap((g) => names(help([g])).map((n) => `${g} ${n}`))];
    expect(commands).toContain('repo init');
    const documented = new Set(rows.map((r) => r.command.replace(/ \(.*\)$/, '').replace(/ --.*$/, '')));
    expect(commands.filter((c) => !documented.has(c))).toEqual([]);
  });

  for (const row of docShapes()) {
    it.skipIf(row.command in NOT_RUN)(`${row.command} ${row.where}${NOT_RUN[row.command] ? ` (skipped: ${NOT_RUN[row.command]})` : ''}`, () => {
      expect(Object.keys(out), `no run produces "${row.command}"`).toContain(row.command);
      expectShape(out[row.command], row);
    });
  }

  it('seconds keep at most 3 decimals, and mbPerSec and percents 1, in every output', () => {
    const bad: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
        const d = k === 'seconds' ? 3 : ['mbPerSec', 'percent', 'percentComplete'].includes(k) ? 1 : undefined;
        if (d !== undefined && typeof x === 'number' && Number(x.toFixed(d)) !== x) bad.push(`${at}.${k} = ${x}`);
        walk(x, `${at}.${k}`);
      }
    };
    for (const [cmd, v] of Object.entries(out)) walk(v, cmd);
    expect(bad).toEqual([]);
    expect(Object.keys(out).length).toBeGreaterThan(30);
  });

  it('a usage error with --json prints the same error object as any other error', () => {
    for (const args of [['status', '--bogus'], ['backup'], ['bogus']]) {
      const r = runCli([...args, '--json']);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'USAGE', exitCode: 2, message: expect.any(String) } });
    }
  });
});
