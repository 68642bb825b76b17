import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, loadChunks } from '../../dist/store/index.js';
import { CLI, cliJson, runCli } from '../helpers/cli.js';
import { waitExit } from '../helpers/child.js';
import { listFiles, rmTmp, sleep } from '../helpers/tmp.js';
import { scratchDir, DB, backedUpSource, digests } from './helpers-restore.js';

let dir: string, src: string, bak: string;
let srcDigests: Record<string, string>;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = scratchDir('restore-resume');
  ({ home: src, bak } = await backedUpSource(dir));
  srcDigests = digests(src);
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await waitExit(child);
  }
  child = undefined;
});
afterAll(() => rmTmp(dir));

/** A restore-db slowed by --max-rate so that a test can act while it copies. */
function slowRestore(home: string): ChildProcess {
  return spawn(process.execPath, [CLI, '--home', home, 'restore-db', bak, DB, '--max-rate', '60KB', '--json'], { stdio: 'ignore' });
}

/** Table partitions committed in the target so far. */
function committed(home: string): number {
  try {
    return loadChunks(new Cluster(home), DB).reduce((a, k) => a + Object.keys(k.tables).length, 0);
  } catch {
    return 0; // the database is not created yet
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('restore resume and locking', () => {
  it('kill -9 mid-restore, then a rerun gives the source digest and copies only what was not committed', async () => {
    const home = path.join(dir, 'killed');
    child = slowRestore(home);
    await until(() => committed(home) >= 2, 'two committed partitions');
    child.kill('SIGKILL');
    expect((await waitExit(child)).signal).toBe('SIGKILL');
    const before = committed(home);
    expect(before).toBeLessThan(20);

    const r = cliJson<{ partitions: number; skipped: number }>(['--home', home, 'restore-db', bak, DB]);
    expect(r.skipped).toBe(before);
    expect(r.partitions).toBe(20 - before);
    expect(digests(home)).toEqual(srcDigests);
    // The killed run's staging directories are gone (GC removes a dead writer's staging on commit).
    expect(listFiles(path.join(home, 'volumes')).filter((f) => f.includes('_tid_'))).toEqual([]);
  });

  it('a second restore into the same database while one runs fails fast with LOCKED naming the holder', async () => {
    const home = path.join(dir, 'locked');
    child = slowRestore(home);
    const lock = path.join(home, 'catalog', 'testdb.restore.lock');
    await until(() => fs.existsSync(lock) && fs.statSync(lock).size > 0, 'the restore lock');
    const started = Date.now();
    const r = runCli(['--home', home, 'restore-db', bak, DB]);
    expect(r.code, r.stderr).toBe(5);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(new RegExp(`^chunkvault: restore into dfs://testdb in .* is locked by pid ${child.pid} `));
  });

  it('a restore lock left by a killed restore is taken over', async () => {
    const home = path.join(dir, 'stale');
    child = slowRestore(home);
    const lock = path.join(home, 'catalog', 'testdb.restore.lock');
    await until(() => fs.existsSync(lock) && fs.statSync(lock).size > 0, 'the restore lock');
    child.kill('SIGKILL');
    await waitExit(child);
    expect(fs.existsSync(lock)).toBe(true);
    cliJson(['--home', home, 'restore-db', bak, DB]);
    expect(digests(home)).toEqual(srcDigests);
    expect(fs.existsSync(lock)).toBe(false);
  });
});
