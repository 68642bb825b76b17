import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteCounter, CancelFlag, ProgressMeter, diskOf, fsTypeOf } from '../../dist/io/index.js';
import { tmpDir } from './helpers.js';

describe('ProgressMeter', () => {
  it('reports MB/s over the sliding window, fraction and ETA from the total', () => {
    let now = 0;
    let bytes = 0;
    const m = new ProgressMeter(() => bytes, 100e6, 2000, () => now);
    m.sample();
    for (let s = 1; s <= 4; s++) {
      now = s * 1000;
      bytes += s <= 2 ? 20e6 : 5e6; // 20 MB/s, then slows to 5 MB/s
      m.sample();
    }
    const last = m.sample();
    expect(last.bytes).toBe(50e6);
    expect(last.mbPerSec).toBe(5); // the window forgot the fast start
    expect(last.fraction).toBeCloseTo(0.5);
    expect(last.etaSec).toBeCloseTo(10);
  });

  it('has no ETA while nothing moves and an ETA of 0 when done', () => {
    let bytes = 0;
    let now = 0;
    const m = new ProgressMeter(() => bytes, 10, 1000, () => now);
    now = 500;
    expect(m.sample().etaSec).toBeUndefined();
    bytes = 10;
    now = 600;
    m.sample();
    now = 5000;
    expect(m.sample()).toMatchObject({ etaSec: 0, fraction: 1 });
  });
});

describe('shared state', () => {
  it('a CancelFlag and a ByteCounter rebuilt on the same SharedArrayBuffer see the same values', () => {
    const c = new CancelFlag();
    const view = new CancelFlag(c.sab);
    expect(view.isSet).toBe(false);
    c.set();
    expect(view.isSet).toBe(true);
    const b = new ByteCounter();
    new ByteCounter(b.sab).add(5);
    b.add(2 ** 40); // past 32 bits: the counter is 64-bit
    expect(b.value).toBe(2 ** 40 + 5);
  });
});

describe('diskOf / fsTypeOf', () => {
  let dir: string;
  beforeAll(() => (dir = tmpDir('disk')));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('maps a not-yet-existing path to the device of its nearest existing ancestor', () => {
    expect(diskOf(path.join(dir, 'no/such/dir'))).toBe(`dev:${fs.statSync(dir).dev}`);
    expect(fsTypeOf(path.join(dir, 'no/such'))).toBe(fsTypeOf(dir));
  });

  it('prefers the longest configured name that contains the path', () => {
    const names = { [dir]: 'outer', [path.join(dir, 'vol2')]: 'vol2', [path.join(dir, 'vol')]: 'vol' };
    expect(diskOf(path.join(dir, 'vol2/x'), names)).toBe('vol2');
    expect(diskOf(path.join(dir, 'vol/x'), names)).toBe('vol');
    expect(diskOf(path.join(dir, 'volume'), names)).toBe('outer'); // a name prefix is not a path prefix
    expect(diskOf('/elsewhere', names)).toMatch(/^dev:\d+$/);
  });
});
