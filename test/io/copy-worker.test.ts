import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CopyPipeline, diskOf } from '../../dist/io/index.js';
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
