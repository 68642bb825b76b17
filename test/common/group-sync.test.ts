import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { WritebackKicker, groupSyncAllAsync, groupSyncAsync } from '../../dist/common/group-sync.js';
import { rmTmp, scratchDir, tmpDir } from '../helpers/tmp.js';

let dir: string;
let other: string;
let bin: string;
let log: string;
const realPath = process.env.PATH;

/**
 * A `sync` first on PATH that logs when each call starts and ends, then runs the real one. It stays
 * in one place for the whole file: the syncfs helper (one per thread, syncfs-helper.ts) keeps the
 * PATH it was started with.
 */
function fakeSync(holdSeconds: number): void {
  const real = ['/usr/bin/sync', '/bin/sync'].find((p) => fs.existsSync(p))!;
  fs.writeFileSync(path.join(bin, 'sync'), `#!/bin/sh\necho "start $*" >> ${log}\nsleep ${holdSeconds}\necho "end $*" >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 });
}

const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);

beforeAll(() => {
  bin = tmpDir('group-sync-bin');
  log = path.join(bin, 'sync.log');
  process.env.PATH = `${bin}:${realPath}`;
});
afterAll(() => {
  process.env.PATH = realPath;
  rmTmp(bin);
});
// Two directories on two file systems where the machine has them: the OS temp dir and /dev/shm.
beforeEach(() => {
  dir = tmpDir('group-sync');
  other = scratchDir('group-sync');
  fs.rmSync(log, { force: true });
});
afterEach(() => {
  rmTmp(dir);
  rmTmp(other);
});
const twoFileSystems = () => fs.existsSync('/dev/shm') && fs.statSync(os.tmpdir()).dev !== fs.statSync('/dev/shm').dev;

describe('groupSyncAsync', () => {
  it.skipIf(!twoFileSystems())('syncs each file system with its own sync -f, all of them at once (skipped where /dev/shm is not its own file system)', async () => {
    fakeSync(0.3);
    const a = path.join(dir, 'a');
    fs.mkdirSync(a);
    await groupSyncAsync([a, dir, other]);
    const lines = calls();
    expect(lines.filter((l) => l.startsWith('start')).sort()).toEqual([`start -f ${a}`, `start -f ${other}`].sort());
    // Both started before either ended: not one after another.
    expect(lines.slice(0, 2).every((l) => l.startsWith('start'))).toBe(true);
  });
});

describe('groupSyncAllAsync', () => {
  it('finds the file systems from a set\'s anchors, without a stat of each of its directories', async () => {
    fakeSync(0);
    const dirs = ['p1', 'p2', 'p3'].map((d) => path.join(dir, d));
    for (const d of dirs) fs.mkdirSync(d);
    const stat = vi.spyOn(fs, 'statSync');
    try {
      await groupSyncAllAsync([{ dirs, anchors: [dir] }]);
      const statted = stat.mock.calls.map((a) => String(a[0]));
      expect(statted).toContain(dir);
      expect(statted.filter((f) => dirs.includes(f))).toEqual([]);
    } finally {
      stat.mockRestore();
    }
    expect(calls()).toEqual([`start -f ${dir}`, `end -f ${dir}`]);
  });
});

describe('WritebackKicker', () => {
  it('syncs the volumes file system once the copied bytes pass its threshold, not before', async () => {
    fakeSync(0);
    const vols = ['v0', 'v1'].map((v) => path.join(dir, v));
    for (const v of vols) fs.mkdirSync(v);
    let copied = 0;
    const kicker = new WritebackKicker(vols, () => copied, 1000, 5);
    copied = 999;
    await sleep(60);
    expect(calls()).toEqual([]);
    copied = 1000;
    for (let i = 0; i < 200 && calls().length < 2; i++) await sleep(10);
    await kicker.stop();
    // The two volumes share one file system: one syncfs covers both.
    expect(calls()).toEqual([`start -f ${vols[0]}`, `end -f ${vols[0]}`]);
  });
});
