import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPoints } from '../../dist/engine/index.js';
import { CLI, cliJson, runCli } from '../helpers/cli.js';
import { waitExit } from '../helpers/child.js';
import { rmTmp, sleep } from '../helpers/tmp.js';
import { holdLock, latestManifest, manifestContent, repoDir, smallQuotes } from './backup-helpers.js';
import { DB, TSDB, digests, scratchDir } from './helpers-restore.js';

let dir: string, home: string;
type Row = { dbPath: string; success: boolean; partitions?: number; error?: { code: string; exitCode: number; message: string } };
type AllResult = { databases: Row[]; partitions: number; bytesCopied: number };

beforeAll(async () => {
  dir = scratchDir('backup-all');
  home = path.join(dir, 'home');
  await smallQuotes(home, { rowsPerSymbol: 2000 });
});
afterAll(() => rmTmp(dir));

const journalLines = (bak: string) =>
  [DB, TSDB].reduce((n, db) => {
    const d = path.join(repoDir(bak, db), 'journal');
    return n + (fs.existsSync(d) ? fs.readdirSync(d).reduce((a, f) => a + fs.readFileSync(path.join(d, f), 'utf8').split('\n').filter(Boolean).length, 0) : 0);
  }, 0);

describe('backup-all', () => {
  it('backs up every database of the home, each to the same point content as its own backup-db, and restores equal', () => {
    const all = path.join(dir, 'bak-all');
    const each = path.join(dir, 'bak-each');
    const r = cliJson<AllResult>(['--home', home, 'backup-all', all, '--repo-format', '1']);
    expect(r.databases.map((d) => [d.dbPath, d.success])).toEqual([[DB, true], [TSDB, true]]);
    for (const db of [DB, TSDB]) cliJson(['--home', home, 'backup-db', each, db, '--repo-format', '1']);
    for (const db of [DB, TSDB]) expect(manifestContent(latestManifest(all, db))).toEqual(manifestContent(latestManifest(each, db)));
    expect(r.partitions).toBe(r.databases.reduce((a, d) => a + d.partitions!, 0));
    const restored = path.join(dir, 'restored');
    cliJson(['--home', restored, 'migrate', all]);
    for (const db of [DB, TSDB]) expect(digests(restored, db)).toEqual(digests(home, db));
  });

  it('a database whose repository is locked fails with its error while the other is backed up, and the exit is 10', () => {
    const bak = path.join(dir, 'bak-locked');
    holdLock(bak, DB);
    const r = runCli(['--home', home, 'backup-all', bak, '--json']);
    expect(r.code, r.stderr).toBe(10);
    const rows = (JSON.parse(r.stdout) as AllResult).databases;
    expect(rows[0]).toEqual({ dbPath: DB, success: false, error: { code: 'LOCKED', exitCode: 5, message: expect.stringContaining('job test') } });
    expect(rows[1]).toMatchObject({ dbPath: TSDB, success: true });
    expect(listPoints(bak, TSDB)).toHaveLength(1);
    expect(runCli(['--home', home, 'backup-all', bak]).stdout).toMatch(/failed \(LOCKED\)/);
  });

  it('when every database fails, it exits with their error, one line, as backup-db would', () => {
    const bak = path.join(dir, 'bak-all-locked');
    holdLock(bak, DB);
    holdLock(bak, TSDB);
    const r = runCli(['--home', home, 'backup-all', bak]);
    expect(r.code).toBe(5);
    expect(r.errLines).toHaveLength(1);
  });

  it('after kill -9 mid-copy a rerun resumes each database and ends with the points an uninterrupted run makes', async () => {
    const bak = path.join(dir, 'bak-killed');
    const child = spawn(process.execPath, [CLI, '--home', home, 'backup-all', bak, '--max-rate', '1MB', '--repo-format', '1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (let i = 0; journalLines(bak) < 3; i++) {
      expect(i).toBeLessThan(800);
      await sleep(25);
    }
    child.kill('SIGKILL');
    await waitExit(child);
    const committed = journalLines(bak);
    const r = cliJson<AllResult & { skipped: number }>(['--home', home, 'backup-all', bak]);
    expect(r.skipped).toBe(committed);
    const uninterrupted = path.join(dir, 'bak-uninterrupted');
    cliJson(['--home', home, 'backup-all', uninterrupted, '--repo-format', '1']);
    for (const db of [DB, TSDB]) {
      expect(manifestContent(latestManifest(bak, db))).toEqual(manifestContent(latestManifest(uninterrupted, db)));
      expect(fs.readdirSync(path.join(repoDir(bak, db), 'journal'))).toEqual([]);
    }
  });

  it('a home without databases is exit 3', () => {
    const empty = path.join(dir, 'empty-home');
    expect(runCli(['--home', empty, 'init']).code).toBe(0);
    expect(runCli(['--home', empty, 'backup-all', path.join(dir, 'bak-none')]).code).toBe(3);
  });
});
