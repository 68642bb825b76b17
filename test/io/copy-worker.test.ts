import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CopyPipeline, applyDefaults, diskOf, restoreDefaults } from '../../dist/io/index.js';
import { tmpDir } from './helpers.js';

const dir = tmpDir('copy-worker');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const markerUrl = (marker: string) => `${pathToFileURL(path.resolve('test/support/import-marker.mjs')).href}?marker=${encodeURIComponent(marker)}`;
const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('copy worker module tasks', () => {
  it('imports a preloaded module task as each worker boots, before any task, and a task reuses that import', async () => {
    const marker = path.join(dir, 'preloaded.log');
    const url = markerUrl(marker);
    const pipe = new CopyPipeline({ workers: 2, diskConcurrency: 2, eager: true, preload: [url] });
    try {
      await until(() => lines(marker) === 2);
      expect(lines(marker)).toBe(2);
      expect(await pipe.runModule(url, 7, [diskOf(dir)])).toEqual({ ran: 7 });
      expect(lines(marker)).toBe(2);
    } finally {
      await pipe.close();
    }
  });

  it('boots as many workers up front as eager asks, not all of them', async () => {
    const marker = path.join(dir, 'eager-two.log');
    const pipe = new CopyPipeline({ workers: 4, diskConcurrency: 2, eager: 2, preload: [markerUrl(marker)] });
    try {
      await until(() => lines(marker) === 2);
      await new Promise((r) => setTimeout(r, 500));
      expect(lines(marker)).toBe(2);
    } finally {
      await pipe.close();
    }
  });

  it('imports a module task that was not preloaded on its first task', async () => {
    const marker = path.join(dir, 'on-demand.log');
    const url = markerUrl(marker);
    const pipe = new CopyPipeline({ workers: 1, diskConcurrency: 1, eager: true });
    try {
      expect(lines(marker)).toBe(0);
      expect(await pipe.runModule(url, 'x', [diskOf(dir)])).toEqual({ ran: 'x' });
      expect(lines(marker)).toBe(1);
    } finally {
      await pipe.close();
    }
  });
});

describe('copy worker loading', () => {
  it('runs its workers with require(esm) off, so piscina imports its ES module entry instead of requiring it', async () => {
    const pipe = new CopyPipeline({ workers: 1, diskConcurrency: 1 });
    try {
      const url = pathToFileURL(path.resolve('test/support/require-esm.mjs')).href;
      expect(await pipe.runModule<string>(url, null, [diskOf(dir)])).toBe('ERR_REQUIRE_ESM');
    } finally {
      await pipe.close();
    }
  });
});

describe('copy worker priority', () => {
  const niceUrl = pathToFileURL(path.resolve('test/support/thread-nice.mjs')).href;
  const linux = fs.existsSync('/proc/thread-self');

  it.skipIf(!linux)('runs each worker the workerNice a restore gives below the process priority, on its own thread only, and at the process priority otherwise', async () => {
    const own = os.getPriority();
    const nice = new CopyPipeline({ workers: 2, diskConcurrency: 2, workerNice: restoreDefaults().workerNice });
    const plain = new CopyPipeline({ workers: 1, diskConcurrency: 1 });
    try {
      const got = await Promise.all([0, 1, 2, 3].map(() => nice.runModule<number>(niceUrl, null, [diskOf(dir)])));
      expect(restoreDefaults().workerNice).toBeGreaterThan(0);
      expect(new Set(got)).toEqual(new Set([own + restoreDefaults().workerNice]));
      expect(os.getPriority()).toBe(own);
      expect(await plain.runModule<number>(niceUrl, null, [diskOf(dir)])).toBe(own);
      expect(applyDefaults('copy').workerNice).toBe(0);
    } finally {
      await nice.close();
      await plain.close();
    }
  });
});
