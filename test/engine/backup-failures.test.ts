import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backup, listPoints } from '../../dist/engine/index.js';
import { sealJson } from '../../dist/repo/sealed-json.js';
import { generateQuotes } from '../../dist/generate/generate.js';
import { Cluster, volumesOf, loadCluster } from '../../dist/store/index.js';
import { CLI, runCli } from '../helpers/cli.js';
import { deadPid, waitExit } from '../helpers/child.js';
import { isRoot, mountTmpfs, ROOT_REASON, rmTmp, sleep, tmpDir } from '../helpers/tmp.js';
import { latestManifest, manifestContent, repoDir, smallQuotes } from './backup-helpers.js';

const DB = 'dfs://testdb';
let dir: string, home: string, bak: string;
const unmounts: (() => void)[] = [];

beforeEach(() => {
  dir = tmpDir('backup-fail');
  home = path.join(dir, 'home');
  bak = path.join(dir, 'bak');
});
afterEach(() => {
  while (unmounts.length) unmounts.pop()!();
  rmTmp(dir);
});

/** Starts a throttled CLI backup in a child process. */
function slowBackup(target: string, rate = '1MB') {
  return spawn(process.execPath, [CLI, '--home', home, 'backup-db', target, DB, '--max-rate', rate, '--json', '--repo-format', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}

const journalLines = () => {
  const d = path.join(repoDir(bak, DB), 'journal');
  return fs.existsSync(d) ? fs.readdirSync(d).reduce((a, f) => a + fs.readFileSync(path.join(d, f), 'utf8').split('\n').filter(Boolean).length, 0) : 0;
};

describe('backup failure behaviour', () => {
  it('a second backup of the same database into the same directory fails fast naming the holder', async () => {
    await smallQuotes(home, { rowsPerSymbol: 2000 });
    const child = slowBackup(bak);
    await waitFor(() => fs.existsSync(path.join(repoDir(bak, DB), 'lock')));
    const t0 = Date.now();
    const r = runCli(['--home', home, 'backup-db', bak, DB]);
    child.kill('SIGKILL');
    await waitExit(child);
    expect(r.code).toBe(5);
    expect(r.errLines).toHaveLength(1);
    expect(r.stderr).toContain(`pid ${child.pid}`);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a lock left by a dead process is taken over', async () => {
    await smallQuotes(home);
    fs.mkdirSync(repoDir(bak, DB), { recursive: true });
    fs.writeFileSync(path.join(repoDir(bak, DB), 'repo.json'), sealJson({ format: 2, dbPath: DB }));
    fs.writeFileSync(path.join(repoDir(bak, DB), 'lock'), JSON.stringify({ pid: deadPid(), host: os.hostname(), since: new Date().toISOString(), holder: 'job dead' }));
    const res = await backup({ home, backupDir: bak, dbPath: DB });
    expect(res.partitions).toBe(20);
    expect(fs.existsSync(path.join(repoDir(bak, DB), 'lock'))).toBe(false);
  });

  it('after kill -9 mid-copy a rerun copies only what was not committed and ends with the same restore point', async () => {
    await smallQuotes(home, { rowsPerSymbol: 2000 });
    const child = slowBackup(bak, '1MB');
    await waitFor(() => journalLines() >= 3);
    child.kill('SIGKILL');
    await waitExit(child);
    const committed = journalLines();
    expect(listPoints(bak, DB)).toHaveLength(0);
    const res = await backup({ home, backupDir: bak, dbPath: DB });
    expect(res.skipped).toBe(committed);
    expect(res.partitions).toBe(20 - committed);
    const uninterrupted = path.join(dir, 'bak2');
    await backup({ home, backupDir: uninterrupted, dbPath: DB, repoFormat: 1 });
    expect(manifestContent(latestManifest(bak, DB))).toEqual(manifestContent(latestManifest(uninterrupted, DB)));
    expect(fs.readdirSync(path.join(repoDir(bak, DB), 'journal'))).toEqual([]);
  });

  it('unknown database, table or partition fails with exit 3 and creates nothing', async () => {
    await smallQuotes(home);
    for (const args of [
      ['backup-db', bak, 'dfs://nosuch'],
      ['backup-table', bak, DB, 'nosuch'],
      ['backup', bak, DB, '--partition', '/Key9/tp/20990101'],
    ]) {
      const r = runCli(['--home', home, ...args]);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.errLines).toHaveLength(1);
    }
    expect(fs.existsSync(bak)).toBe(false);
  });

  it('a malformed partition path fails with exit 2 and creates nothing', async () => {
    await smallQuotes(home);
    const r = runCli(['--home', home, 'backup', bak, DB, '--partition', '/Key1/../../etc']);
    expect(r.code).toBe(2);
    expect(fs.existsSync(bak)).toBe(false);
  });

  it('a backup directory inside a volume is refused and nothing is created', async () => {
    await smallQuotes(home);
    const vol = volumesOf(loadCluster(home))[0]!.path;
    const inside = path.join(vol, 'bak');
    const r = runCli(['--home', home, 'backup-db', inside, DB]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('inside volume');
    expect(fs.existsSync(inside)).toBe(false);
  });

  it.skipIf(!isRoot)(`an unwritable backup directory fails with exit 6 (${isRoot ? 'read-only tmpfs' : ROOT_REASON})`, async () => {
    await smallQuotes(home);
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', ro]);
    unmounts.push(() => execFileSync('umount', [ro]));
    const r = runCli(['--home', home, 'backup-db', ro, DB]);
    expect(r.code).toBe(6);
    expect(r.errLines).toHaveLength(1);
    expect(r.stderr).toContain('read-only');
    // A directory that does not exist yet on the read-only file system: still 6, not "no such file" (3).
    const deeper = runCli(['--home', home, 'backup-db', path.join(ro, 'new', 'dir'), DB]);
    expect(deeper.code, deeper.stderr).toBe(6);
    expect(deeper.errLines).toEqual([expect.stringContaining('read-only file system')]);
  });

  it.skipIf(!isRoot)(`a full disk fails clearly, keeps the last restore point, and a rerun with space resumes (${isRoot ? 'small tmpfs' : ROOT_REASON})`, async () => {
    await smallQuotes(home, { rowsPerSymbol: 2000 }); // about 1.5 MB per table
    const small = path.join(dir, 'small');
    unmounts.push(mountTmpfs(small, '2500k'));
    await backup({ home, backupDir: small, dbPath: DB, tables: ['quotes'] });
    const first = listPoints(small, DB);
    expect(first).toHaveLength(1);
    // quotes_2 no longer fits in what is left.
    const r = runCli(['--home', home, 'backup-db', small, DB]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('no space left');
    expect(r.errLines).toHaveLength(1);
    expect(listPoints(small, DB)).toEqual(first);
    execFileSync('mount', ['-o', 'remount,size=16m', small]);
    const res = await backup({ home, backupDir: small, dbPath: DB });
    expect(res.partitions + res.skipped).toBe(20);
    expect(res.skipped).toBeGreaterThanOrEqual(10);
    expect(listPoints(small, DB)).toHaveLength(2);
  });

  it.skipIf(!isRoot)(`per-disk queues never exceed --disk-concurrency on volumes on two real devices (${isRoot ? 'tmpfs mounts' : ROOT_REASON})`, async () => {
    const a = path.join(dir, 'devA'), b = path.join(dir, 'devB'), t = path.join(dir, 'devT');
    unmounts.push(mountTmpfs(a, '64m'), mountTmpfs(b, '64m'), mountTmpfs(t, '128m'));
    const init = runCli(['--home', home, 'init', '--volume', `node1=${a}/v`, '--volume', `node2=${b}/v`]);
    expect(init.code).toBe(0);
    await generateQuotes(home, { dates: 4, symbols: 20, rowsPerSymbol: 500, workers: 1 });
    const vols = volumesOf(new Cluster(home).cfg);
    expect(new Set(vols.map((v) => v.disk)).size).toBe(2);
    for (const limit of [1, 2]) {
      let pipe: { maxInFlight(d: string): number } | undefined;
      await backup({ home, backupDir: path.join(t, `bak${limit}`), dbPath: DB, workers: 4, diskConcurrency: limit, force: true, observer: { attach: (p) => (pipe = p) } });
      for (const v of vols) {
        expect(pipe!.maxInFlight(v.disk)).toBeLessThanOrEqual(limit);
        expect(pipe!.maxInFlight(v.disk)).toBeGreaterThanOrEqual(1);
      }
    }
  });
});
