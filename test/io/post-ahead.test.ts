import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CopyPipeline, PIPELINE_DEFAULTS, diskOf } from '../../dist/io/index.js';
import { randomFile, tmpDir } from './helpers.js';

const dir = tmpDir('post-ahead');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tasks posted ahead to the workers', () => {
  /** Files one worker copies from its own queue while the main thread is blocked for a second, of n posted. */
  async function copiedWhileBlocked(tag: string, n: number, postAhead?: number): Promise<number> {
    const src = path.join(dir, tag, 'src');
    fs.mkdirSync(src, { recursive: true });
    for (let i = 0; i <= n; i++) randomFile(path.join(src, `f${i}`), 4096);
    const disk = diskOf(dir);
    // One worker, one task per disk at once, one file per task.
    const pipe = new CopyPipeline({ workers: 1, diskConcurrency: 1, batchFiles: 1, eager: true, ...(postAhead ? { postAhead } : {}) });
    try {
      await pipe.copyFiles([{ src: path.join(src, 'f0'), dst: path.join(dir, tag, 'warm', 'f0') }], disk, disk, { durable: false });
      const jobs = Array.from({ length: n }, (_, i) => ({ src: path.join(src, `f${i + 1}`), dst: path.join(dir, tag, 'out', `f${i + 1}`), expectedSize: 4096 }));
      const copying = pipe.copyFiles(jobs, disk, disk, { durable: false });
      for (let i = 0; i < 20; i++) await null; // the tasks are posted (microtasks only: no reply is taken yet)
      // The main thread blocks (as under a group commit): no reply is taken and no task posted meanwhile.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      const copiedMeanwhile = jobs.filter((j) => fs.existsSync(j.dst) && fs.statSync(j.dst).size === 4096).length;
      await copying;
      expect(pipe.maxInFlight(disk)).toBe(1);
      return copiedMeanwhile;
    } finally {
      await pipe.close();
    }
  }

  it('keeps a worker copying its queued tasks while the main thread is blocked', async () => {
    expect(PIPELINE_DEFAULTS.postAhead).toBeGreaterThanOrEqual(4);
    // One task at a time from the main thread would have copied one file.
    expect(await copiedWhileBlocked('default', 4)).toBe(4);
  });

  it('queues as many tasks per worker as the pipeline is told to post ahead, and no more', async () => {
    const ahead = PIPELINE_DEFAULTS.postAhead + 4;
    expect(await copiedWhileBlocked('given', ahead + 2, ahead)).toBe(ahead);
  });

  it('spreads the first tasks of a cold pool over every worker', async () => {
    const url = pathToFileURL(path.resolve('test/support/thread-id.mjs')).href;
    const pipe = new CopyPipeline({ workers: 4, diskConcurrency: 4 });
    try {
      const ids = await Promise.all([0, 1, 2, 3].map(() => pipe.runModule<number>(url, null, [diskOf(dir)])));
      expect(new Set(ids).size).toBe(4);
    } finally {
      await pipe.close();
    }
  });
});
