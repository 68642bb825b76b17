import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskSlots, MAX_DISKS, giveSlots, takeSlots } from '../../dist/io/disk-slots.js';
import { CopyPipeline, diskOf } from '../../dist/io/index.js';
import { tmpDir } from './helpers.js';

const dir = tmpDir('disk-slots');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const never = () => false;
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('per-disk slots held by the workers', () => {
  it('lets a disk be taken up to its limit, and the next taker waits until a slot is given back', async () => {
    const slots = new DiskSlots(() => 2);
    const d = slots.indices(['d']);
    await takeSlots(slots.sab, d, never);
    await takeSlots(slots.sab, d, never);
    let third = false;
    const waiting = takeSlots(slots.sab, d, never).then(() => (third = true));
    await tick();
    expect(third).toBe(false);
    giveSlots(slots.sab, d);
    await waiting;
    expect(third).toBe(true);
    expect(slots.maxObserved('d')).toBe(2);
  });

  it('takes one slot for a task that names the same disk twice', async () => {
    const slots = new DiskSlots(() => 1);
    const d = slots.indices(['same', 'same']);
    expect(d).toHaveLength(1);
    await takeSlots(slots.sab, d, never);
    expect(slots.maxObserved('same')).toBe(1);
  });

  it('gives up with CANCELLED, holding nothing, when stopped while waiting', async () => {
    const slots = new DiskSlots(() => 1);
    const [a, b] = [slots.indices(['a']), slots.indices(['a', 'b'])];
    await takeSlots(slots.sab, a, never);
    let stop = false;
    const waiting = takeSlots(slots.sab, b, () => stop);
    stop = true;
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    giveSlots(slots.sab, a);
    // Both disks are free again: a task on both takes them at once.
    await takeSlots(slots.sab, b, never);
    expect(slots.maxObserved('a')).toBe(1);
    expect(slots.maxObserved('b')).toBe(1);
  });

  it('refuses more disks than it has slots for with a usage error', () => {
    const slots = new DiskSlots(() => 1);
    const many = Array.from({ length: MAX_DISKS + 1 }, (_, i) => `d${i}`);
    expect(() => slots.indices(many)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('the per-disk create lock', () => {
  const probe = pathToFileURL(path.resolve('test/support/create-probe.mjs')).href;
  // 4 tasks on 4 workers, each making 20 names held ~2 ms; the most that were inside a create at once.
  const mostAtOnce = async (createsOn: string | undefined, createConcurrency?: number): Promise<number> => {
    const sab = new SharedArrayBuffer(8);
    const pipe = new CopyPipeline({ workers: 4, diskConcurrency: 4, eager: true, ...(createConcurrency ? { createConcurrency } : {}) });
    try {
      await Promise.all([0, 1, 2, 3].map(() => pipe.runModule(probe, { sab }, [diskOf(dir)], [], createsOn)));
    } finally {
      await pipe.close();
    }
    return new Int32Array(sab)[1]!;
  };

  it('lets one worker at a time make a name on the disk a task creates on', async () => {
    expect(await mostAtOnce(diskOf(dir))).toBe(1);
  });

  it('lets as many workers make names at once as the create concurrency allows, and no more', async () => {
    expect(await mostAtOnce(diskOf(dir), 2)).toBe(2);
  });

  it('leaves the creates of a task that names no such disk to run at once', async () => {
    // The control for the test above: the probe does see creates overlap when nothing holds them apart.
    expect(await mostAtOnce(undefined)).toBeGreaterThan(1);
  });
});
