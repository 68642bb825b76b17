import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { backup } from '../../dist/engine/index.js';
import { Cluster, append } from '../../dist/store/index.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { countSyncs, rollBack, runCliFaulty, sweepPoints, unkilledRun } from '../support/crash.js';
import { DB, digestOf, pointIds, resetTo, restoredDigest } from '../support/sweep-helpers.js';

/**
 * Dedup under kill -9 (the fault layer's SIGKILL at the K-th durability point): an incremental
 * backup writes quotes and quotes_2 partitions that got the same rows, so their files over 1 MiB
 * (DEDUP_MIN_BYTES) are written once and referenced from a second-wave pack. A kill at any point
 * (sweepPoints: the first, the last three and one in two between, rotating from run to run),
 * second wave included, must leave the previous point (or a complete new one) restorable, and a
 * rerun must make a point that restores the source.
 */
let dir: string, work: string, snap: string;
let before: Record<string, string>, after: Record<string, string>;

beforeAll(async () => {
  dir = scratchDir('dedup-crash');
  work = path.join(dir, 'work');
  snap = path.join(dir, 'snap');
  const home = path.join(work, 'h');
  // Two partitions per table, each with a time.col of 1.2 MB.
  await generateQuotes(home, { dates: 1, symbols: 2, rowsPerSymbol: 150_000, seed: 1, workers: 1 });
  await backup({ home, backupDir: path.join(work, 'bak'), dbPath: DB, workers: 1, repoFormat: 2 });
  before = digestOf(home, DB);
  const c = new Cluster(home);
  for (const table of ['quotes', 'quotes_2']) for (const symbol of ['S00000', 'S00001']) append(c, DB, table, { time: [Date.UTC(2012, 0, 1, 23)], symbol: [symbol], price: [2.5], volume: [7], side: ['S'], source: ['tp'] });
  after = digestOf(home, DB);
  fs.cpSync(work, snap, { recursive: true });
}, 120_000);
afterAll(() => rmTmp(dir));

const faultDir = () => path.join(dir, 'faults');
const bak = () => path.join(work, 'bak');
const BACKUP = () => ['--home', path.join(work, 'h'), 'backup', '--workers', '1', '--json', bak(), DB];

function crashRun(k?: number) {
  resetTo(snap, work);
  fs.rmSync(faultDir(), { recursive: true, force: true });
  return runCliFaulty(BACKUP(), { dir: faultDir(), ...(k ? { crashAtSync: k } : {}) });
}

describe('v2 dedup: a crash at each durability point of a backup that deduplicates', () => {
  it('leaves the previous point or a complete new one, and a rerun makes a point that restores', async () => {
    const clean = crashRun();
    expect(clean.code, clean.stderr).toBe(0);
    expect((JSON.parse(clean.stdout) as { filesDeduplicated: number }).filesDeduplicated).toBeGreaterThan(0);
    const points = countSyncs(faultDir());
    const first = pointIds(bak())[0];
    for (const k of sweepPoints('dedup backup crash sweep', points, 2)) {
      const r = crashRun(k);
      expect(unkilledRun(r, k, faultDir())).toBeUndefined();
      rollBack(faultDir(), [work]);
      const ids = pointIds(bak());
      expect(ids.length, `K=${k}`).toBeLessThanOrEqual(2);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: latest point`).toEqual(ids.length === 2 ? after : before);
      const again = runCliFaulty(BACKUP(), {});
      expect(again.code, `K=${k} rerun: ${again.stderr}`).toBe(0);
      expect(await restoredDigest(bak(), path.join(dir, 'r')), `K=${k}: rerun's point`).toEqual(after);
      expect(pointIds(bak())[0], `K=${k}`).toBe(first);
    }
  }, 300_000);
});
