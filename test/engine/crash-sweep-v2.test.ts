import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { countSyncs, rollBack, runCliFaulty, sweepPoints, unkilledRun } from '../support/crash.js';
import { DB, appendRow, digestOf, pointIds, resetTo, restoredDigest, tinyBackedUp } from '../support/sweep-helpers.js';

/**
 * Repository v2 (packs): a crash at the durability points (fault layer, crashAtSync = K; which
 * ones: sweepPoints) of one incremental backup and of one prune, with what was not yet durable
 * rolled back, must leave the last restore point restorable, and a rerun must succeed.
 */
let dir: string;
let work: string;
let snap: string;
let before: Record<string, string>;
let after: Record<string, string>;

beforeAll(async () => {
  dir = scratchDir('crash-v2');
  work = path.join(dir, 'work');
  snap = path.join(dir, 'snap');
  const { home } = await tinyBackedUp(work, 2);
  before = digestOf(home, DB);
  appendRow(home);
  after = digestOf(home, DB);
  fs.cpSync(work, snap, { recursive: true });
});
afterAll(() => rmTmp(dir));

const home = () => path.join(work, 'h');
const bak = () => path.join(work, 'bak');
const faultDir = () => path.join(dir, 'faults');

function crashRun(args: string[], k?: number, before = false) {
  resetTo(snap, work);
  fs.rmSync(faultDir(), { recursive: true, force: true });
  return runCliFaulty(['--home', home(), ...args], { dir: faultDir(), ...(k ? { [before ? 'crashBeforeSync' : 'crashAtSync']: k } : {}) });
}

const BACKUP = ['backup', '--workers', '1'];
// The prune runs with --max-unused 0, so the pack that held the superseded entry is repacked too.

describe('v2: a crash at each durability point of an incremental backup into packs', () => {
  it('leaves the previous point or a complete new one, and a rerun makes a point that restores', async () => {
    const clean = crashRun([...BACKUP, bak(), DB]);
    expect(clean.code, clean.stderr).toBe(0);
    const points = countSyncs(faultDir());
    expect(points).toBeGreaterThan(10);
    const [first] = pointIds(bak());
    for (const k of sweepPoints('v2 backup crash sweep', points, 2)) {
      const r = crashRun([...BACKUP, bak(), DB], k);
      expect(unkilledRun(r, k, faultDir())).toBeUndefined();
      rollBack(faultDir(), [work]);
      const ids = pointIds(bak());
      expect(ids[0], `K=${k}`).toBe(first);
      expect(ids.length, `K=${k}`).toBeLessThanOrEqual(2);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: latest point`).toEqual(ids.length === 2 ? after : before);
      const again = runCliFaulty(['--home', home(), ...BACKUP, bak(), DB], {});
      expect(again.code, `K=${k} rerun: ${again.stderr}`).toBe(0);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: rerun's point`).toEqual(after);
    }
  }, 240_000); // one crash run, rollback, restore and rerun per durability point: slow on 2 shared cores
});

/** The worst order a file system may pick: every removal outside points/ reached the disk, points/ did not. */
const removalsFirst = (r: { op: string; path: string }) => ['unlink', 'rmtree', 'rmdir'].includes(r.op) && !r.path.includes('/points/');

describe('v2: a crash at each durability point of a prune of packs', () => {
  it('keeps the newest point restorable and a rerun of the prune leaves only it', async () => {
    // Two points: the first, and the one after the append.
    resetTo(snap, work);
    expect(runCliFaulty(['--home', home(), ...BACKUP, bak(), DB], {}).code).toBe(0);
    fs.rmSync(snap, { recursive: true, force: true });
    fs.cpSync(work, snap, { recursive: true });
    const newest = pointIds(bak()).at(-1)!;
    const clean = crashRun(['prune', '--keep-last', '1', '--max-unused', '0', bak(), DB]);
    expect(clean.code, clean.stderr).toBe(0);
    const points = countSyncs(faultDir());
    expect(points, 'prune makes its removal of manifests durable before it removes data').toBeGreaterThan(0);
    // Each point twice (crash just before its fsync and just after), each rolled back two ways.
    // One run in three (coprime to the four variants, so every variant meets every point over three runs of the suite).
    for (const run of sweepPoints('v2 prune crash sweep (runs of 4 variants per point)', 4 * points, 3, () => false).map((r) => r - 1)) {
      const k = (run >> 2) + 1;
      const r = crashRun(['prune', '--keep-last', '1', '--max-unused', '0', bak(), DB], k, (run & 2) !== 0);
      // A run can make one point fewer than the clean run (a repacked pack's directory already
      // there, unkilledRun): it must then have finished cleanly, and the checks below still hold.
      expect(unkilledRun(r, k, faultDir())).toBeUndefined();
      rollBack(faultDir(), [work], run & 1 ? removalsFirst : undefined);
      expect(pointIds(bak()).at(-1), `K=${k}`).toBe(newest);
      for (const id of pointIds(bak())) expect(await restoredDigest(bak(), path.join(dir, 'r'), id), `K=${k}: point ${id}`).toEqual(id === newest ? after : before);
      const again = runCliFaulty(['--home', home(), 'prune', '--keep-last', '1', '--max-unused', '0', bak(), DB], {});
      expect(again.code, `K=${k} rerun: ${again.stderr}`).toBe(0);
      expect(pointIds(bak()), `K=${k}`).toEqual([newest]);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: after the rerun`).toEqual(after);
    }
  }, 240_000); // 8 durability points x 4 crash runs each, each with restores: slow on 2 shared cores
});
