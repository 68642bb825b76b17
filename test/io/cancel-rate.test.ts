import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyPipeline, Throttle, diskOf } from '../../dist/io/index.js';
import { MiB, randomFile, sleep, tmpDir } from './helpers.js';

let dir: string;
let disk: string;

beforeAll(() => {
  dir = tmpDir('rate');
  disk = diskOf(dir);
  for (const n of ['a', 'b']) randomFile(path.join(dir, `src/${n}.bin`), 32 * MiB);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('cancel', () => {
  it('stops a throttled copy mid-file with CANCELLED, promptly, and leaves no partial dst', async () => {
    const pipe = new CopyPipeline({ workers: 2, diskConcurrency: 2, maxRateBytesPerSec: 8 * MiB, blockSize: 256 * 1024 });
    try {
      const dst = path.join(dir, 'out-cancel/a.bin');
      const run = pipe.copyFiles([{ src: path.join(dir, 'src/a.bin'), dst }], disk, disk);
      const settled = run.catch((e) => e);
      await sleep(400);
      expect(pipe.bytesDone).toBeGreaterThan(0);
      const t0 = performance.now();
      pipe.cancel();
      const err = await settled;
      expect(performance.now() - t0).toBeLessThan(500);
      expect(err).toMatchObject({ code: 'CANCELLED' });
      expect(pipe.bytesDone).toBeLessThan(32 * MiB);
      expect(fs.existsSync(dst)).toBe(false);
      // Sticky: a later call fails fast instead of copying.
      const again = await pipe.copyFiles([{ src: path.join(dir, 'src/b.bin'), dst: path.join(dir, 'out-cancel/b.bin') }], disk, disk).catch((e) => e);
      expect(again).toMatchObject({ code: 'CANCELLED' });
      expect(fs.existsSync(path.join(dir, 'out-cancel/b.bin'))).toBe(false);
    } finally {
      await pipe.close();
    }
  });
});

describe('rate limit', () => {
  it('setRate lowers the measured rate of running copies (two workers share one limit)', async () => {
    const high = 40e6;
    const low = 5e6;
    const pipe = new CopyPipeline({ workers: 2, diskConcurrency: 2, maxRateBytesPerSec: high, blockSize: 256 * 1024 });
    try {
      const jobs = ['a', 'b'].map((n) => ({ src: path.join(dir, `src/${n}.bin`), dst: path.join(dir, `out-rate/${n}.bin`), expectedSize: 32 * MiB }));
      const settled = pipe.copyFiles(jobs, disk, disk).catch((e) => e);
      await sleep(150); // let both workers start
      const measure = async (ms: number) => {
        const [b0, t0] = [pipe.bytesDone, performance.now()];
        await sleep(ms);
        return ((pipe.bytesDone - b0) / (performance.now() - t0)) * 1000;
      };
      const before = await measure(500);
      pipe.setRate(low);
      await sleep(100); // one block per worker may still be in flight
      const after = await measure(1000);
      expect(before).toBeLessThan(2 * high);
      expect(before).toBeGreaterThan(2 * low);
      expect(after).toBeLessThan(2 * low);
      expect(after).toBeGreaterThan(0);
      pipe.setRate(0); // unlimited: the rest finishes quickly
      const res = await settled;
      expect(res).toHaveLength(2);
    } finally {
      await pipe.close();
    }
  });

  it('Throttle holds a caller to the rate and rate 0 means unlimited', () => {
    const t = new Throttle();
    t.setRate(20 * MiB);
    const t0 = performance.now();
    for (let i = 0; i < 16; i++) t.acquire(MiB); // 16 MiB at 20 MiB/s: first block free, ~0.75 s
    const secs = (performance.now() - t0) / 1000;
    expect(secs).toBeGreaterThan(0.6);
    expect(secs).toBeLessThan(1.5);
    t.setRate(0);
    const t1 = performance.now();
    for (let i = 0; i < 1000; i++) t.acquire(MiB);
    expect(performance.now() - t1).toBeLessThan(100);
  });

  it('Throttle.acquire returns false as soon as its stop condition turns true', () => {
    const t = new Throttle();
    t.setRate(1); // one byte per second: the second acquire would wait ~1 MiB seconds
    t.acquire(MiB);
    const deadline = performance.now() + 120;
    const t0 = performance.now();
    expect(t.acquire(MiB, () => performance.now() > deadline)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(400);
  });
});
