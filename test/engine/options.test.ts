import { describe, expect, it } from 'vitest';
import type { CopyPipeline } from '../../dist/io/index.js';
import { applyDefaults } from '../../dist/io/index.js';
import { withPipeline, workersFor } from '../../dist/engine/options.js';

function recorder() {
  const events: string[] = [];
  let attached: CopyPipeline | undefined;
  const observer = {
    attach: (p: CopyPipeline) => {
      attached = p;
      events.push('attach');
    },
    bytes: (done: number, total: number) => events.push(`bytes ${done}/${total}`),
  };
  return { events, observer, attached: () => attached };
}

describe('withPipeline', () => {
  it('hands fn the pipeline it attached to the observer, with the filled rate limit', async () => {
    const r = recorder();
    const seen = await withPipeline(applyDefaults('copy', { workers: 1, maxRate: 123_456 }), r.observer, 0, async (p) => {
      r.events.push('fn');
      expect(p.rate).toBe(123_456);
      return p;
    });
    expect(seen).toBe(r.attached());
    expect(r.events.slice(0, 2)).toEqual(['attach', 'fn']);
  });

  it('reports the bytes done against the total once more when fn ends', async () => {
    const r = recorder();
    await withPipeline(applyDefaults('hash', { workers: 1 }), r.observer, 42, async () => 0);
    expect(r.events.at(-1)).toBe('bytes 0/42');
  });

  it('closes the pipeline when fn returns', async () => {
    const p = await withPipeline(applyDefaults('copy', { workers: 1 }), undefined, 0, async (p) => p);
    expect(p.cancelled).toBe(true); // close() cancels first, then destroys the pool
  });

  it('closes the pipeline and rethrows when fn throws', async () => {
    let seen: CopyPipeline | undefined;
    await expect(
      withPipeline(applyDefaults('copy', { workers: 1 }), undefined, 0, async (p) => {
        seen = p;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(seen!.cancelled).toBe(true);
  });
});

describe('withPipeline pool size', () => {
  const workersFor = (total: number | (() => number)) => withPipeline(applyDefaults('copy', { workers: 4 }), undefined, total, async (p) => p.workers);
  it('runs no more workers than a known total needs (one per 16 MiB), and all of them when the total comes later', async () => {
    expect(await workersFor(1000)).toBe(1);
    expect(await workersFor(40 << 20)).toBe(3);
    expect(await workersFor(1e9)).toBe(4);
    expect(await workersFor(() => 1000)).toBe(4);
  });
});

describe('workersFor', () => {
  const MiB = 1 << 20;
  it('boots one worker per 16 MiB to copy, at least one and at most all, and all when the size is unknown', () => {
    expect([0, 16 * MiB, 16 * MiB + 1, 40 * MiB, 1e9].map((b) => workersFor(4, b))).toEqual([1, 1, 2, 3, 4]);
    expect(workersFor(4, undefined)).toBe(4);
    expect(workersFor(1, 1e9)).toBe(1);
  });
});
