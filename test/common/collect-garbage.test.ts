import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/common/collect-garbage.js';

describe('collectGarbage', () => {
  it('frees an object nothing refers to any more', async () => {
    const ref = (() => new WeakRef({ big: new Array(1000).fill('x') }))();
    // A WeakRef's target is kept until the current job ends.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });
});
