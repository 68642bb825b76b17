import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmTmp } from '../helpers/tmp.js';
import { countSyncs, rollBack, runCliFaulty, sweepPoints } from '../support/crash.js';
import { DB, pointIds, resetTo, restoredDigest, sweepScene } from '../support/sweep-helpers.js';

/**
 * A crash at the durability points (fault layer, crashAtSync = K) of one incremental backup (the
 * first, the last three and one in two between, rotating from run to run: sweepPoints) and at every
 * one of a prune, with what was not yet durable rolled back, must leave the last restore point
 * restorable, and a rerun must succeed.
 */
let dir: string, work: string, snap: string;
let before: Record<string, string>, after: Record<string, string>;
beforeAll(async () => {
  ({ dir, work, snap, before, after } = await sweepScene('crash'));
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

/** A sweep runs the CLI dozens of times: minutes on a loaded 2-core machine, ~15 s on a quiet one. */
const SWEEP_TIMEOUT_MS = 300_000;

describe('a crash at each durability point of an incremental backup', { timeout: SWEEP_TIMEOUT_MS }, () => {
  it('leaves the previous point or a complete new one, and a rerun makes a point that restores', async () => {
    const clean = crashRun([...BACKUP, bak(), DB]);
    expect(clean.code, clean.stderr).toBe(0);
    const points = countSyncs(faultDir());
    expect(points).toBeGreaterThan(10);
    const [first] = pointIds(bak());
    for (const k of sweepPoints('backup crash sweep', points, 2)) {
      const r = crashRun([...BACKUP, bak(), DB], k);
      expect(r.signal, `K=${k}: ${r.stderr}`).toBe('SIGKILL');
      rollBack(faultDir(), [work]);
      const ids = pointIds(bak());
      expect(ids[0], `K=${k}`).toBe(first);
      expect(ids.length, `K=${k}`).toBeLessThanOrEqual(2);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: latest point`).toEqual(ids.length === 2 ? after : before);
      const again = runCliFaulty(['--home', home(), ...BACKUP, bak(), DB], {});
      expect(again.code, `K=${k} rerun: ${again.stderr}`).toBe(0);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: rerun's point`).toEqual(after);
    }
  });
});

/** The worst order a file system may pick: every removal outside points/ reached the disk, points/ did not. */
const removalsFirst = (r: { op: string; path: string }) => ['unlink', 'rmtree', 'rmdir'].includes(r.op) && !r.path.includes('/points/');

describe('a crash at each durability point of a prune', { timeout: SWEEP_TIMEOUT_MS }, () => {
  it('keeps the newest point restorable and a rerun of the prune leaves only it', async () => {
    // Two points: the first, and the one after the append.
    resetTo(snap, work);
    expect(runCliFaulty(['--home', home(), ...BACKUP, bak(), DB], {}).code).toBe(0);
    fs.rmSync(snap, { recursive: true, force: true });
    fs.cpSync(work, snap, { recursive: true });
    const newest = pointIds(bak()).at(-1)!;
    const clean = crashRun(['prune', '--keep-last', '1', bak(), DB]);
    expect(clean.code, clean.stderr).toBe(0);
    const points = countSyncs(faultDir());
    expect(points, 'prune makes its removal of manifests durable before it removes data').toBeGreaterThan(0);
    // Each point twice (crash just before its fsync and just after), each rolled back two ways.
    for (let run = 0; run < 4 * points; run++) {
      const k = (run >> 2) + 1;
      const r = crashRun(['prune', '--keep-last', '1', bak(), DB], k, (run & 2) !== 0);
      expect(r.signal, `K=${k}: ${r.stderr}`).toBe('SIGKILL');
      rollBack(faultDir(), [work], run & 1 ? removalsFirst : undefined);
      expect(pointIds(bak()).at(-1), `K=${k}`).toBe(newest);
      for (const id of pointIds(bak())) expect(await restoredDigest(bak(), path.join(dir, 'r'), id), `K=${k}: point ${id}`).toEqual(id === newest ? after : before);
      const again = runCliFaulty(['--home', home(), 'prune', '--keep-last', '1', bak(), DB], {});
      expect(again.code, `K=${k} rerun: ${again.stderr}`).toBe(0);
      expect(pointIds(bak()), `K=${k}`).toEqual([newest]);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: after the rerun`).toEqual(after);
    }
    console.log(`prune crash sweep: ${points} durability points`);
  });
});
