import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockFile, withLockAsync } from '../../dist/common/lockfile.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-lockfile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const opts = (waitMs: number) => ({ holder: 'test', waitMs, what: 'the test lock' });

describe('a lock held across an await', () => {
  it('refuses this process\'s synchronous taker at once with LOCKED instead of sleeping out its wait', async () => {
    const file = path.join(dir, 'held.lock');
    let waited = -1;
    await withLockAsync(file, opts(60_000), async () => {
      await new Promise((r) => setImmediate(r));
      const t0 = Date.now();
      expect(() => LockFile.acquire(file, opts(3_000))).toThrow(expect.objectContaining({ code: 'LOCKED' }));
      waited = Date.now() - t0;
    });
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited).toBeLessThan(1000);
  });

  it('is free for the next taker once the awaiting holder is done, and after its work failed', async () => {
    const file = path.join(dir, 'after.lock');
    await withLockAsync(file, opts(0), async () => undefined);
    LockFile.acquire(file, opts(0)).release();
    await expect(withLockAsync(file, opts(0), async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(fs.existsSync(file)).toBe(false);
    LockFile.acquire(file, opts(0)).release();
  });
});
