import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyPipeline, DiskQueue, diskOf } from '../../dist/io/index.js';
import { ROOT_REASON, isRoot, mountTmpfs, randomFile, sleep, tmpDir, unmount } from './helpers.js';

describe('DiskQueue (in-memory)', () => {
  it('never exceeds the per-disk limit and never deadlocks on random src/dst pairs', async () => {
    const disks = ['d1', 'd2', 'd3', 'd4'];
    const q = new DiskQueue(2);
    const live = new Map<string, number>();
    let worst = 0;
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >>> 16) % n); // high bits: the low ones cycle
    const tasks = Array.from({ length: 300 }, () => {
      const pair = [disks[rnd(4)]!, disks[rnd(4)]!];
      return q.run(pair, async () => {
        for (const d of new Set(pair)) live.set(d, (live.get(d) ?? 0) + 1);
        worst = Math.max(worst, ...live.values());
        await sleep(rnd(3));
        for (const d of new Set(pair)) live.set(d, live.get(d)! - 1);
      });
    });
    await Promise.all(tasks);
    expect(worst).toBeLessThanOrEqual(2);
    for (const d of disks) expect(q.maxInFlight(d)).toBe(2);
  });

  it('takes ONE slot when source and target are the same disk', async () => {
    const q = new DiskQueue(1);
    const release = await q.acquire(['same', 'same']);
    expect(q.inFlight('same')).toBe(1);
    release();
    release(); // idempotent
    expect(q.inFlight('same')).toBe(0);
  });

  it('rejects a limit below 1', () => {
    expect(() => new DiskQueue(0)).toThrow(/>= 1/);
  });
});

describe.skipIf(!isRoot)(`per-disk concurrency on two real devices (tmpfs)${isRoot ? '' : ` (skipped: ${ROOT_REASON})`}`, () => {
  let dir: string;
  let a: string;
  let b: string;

  beforeAll(() => {
    dir = tmpDir('dq');
    a = path.join(dir, 'a');
    b = path.join(dir, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    mountTmpfs(a, '256m');
    mountTmpfs(b, '256m');
    for (let i = 0; i < 48; i++) randomFile(path.join(a, `f${i}.bin`), 512 * 1024);
  });

  afterAll(() => {
    unmount(a);
    unmount(b);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const limit of [1, 2]) {
    it(`holds at most ${limit} task(s) per disk with 4 workers, and reaches ${limit}`, async () => {
      const [da, db] = [diskOf(a), diskOf(b)];
      expect(da).not.toBe(db);
      // Every worker booted up front, and two rounds: on a loaded machine the first worker could
      // drain one round of these small copies before a second one was up (a full-suite run saw 1).
      const pipe = new CopyPipeline({ workers: 4, diskConcurrency: limit, batchBytes: 512 * 1024, eager: true });
      try {
        for (const round of [0, 1]) {
          const jobs = Array.from({ length: 48 }, (_, i) => ({
            src: path.join(a, `f${i}.bin`),
            dst: path.join(b, `c${limit}-${round}`, `f${i}.bin`),
            expectedSize: 512 * 1024,
          }));
          expect(await pipe.copyFiles(jobs, da, db)).toHaveLength(48);
        }
        for (const d of [da, db]) {
          expect(pipe.maxInFlight(d)).toBeLessThanOrEqual(limit);
          expect(pipe.maxInFlight(d)).toBe(limit);
        }
      } finally {
        await pipe.close();
      }
    });
  }
});
