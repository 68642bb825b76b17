import { describe, expect, it } from 'vitest';
import { BATCH_LIMITS, batchBy } from '../../dist/engine/batches.js';
import { PIPELINE_DEFAULTS } from '../../dist/io/index.js';

/** An item as the v1 backup measures an entry: its source disk, bytes and file count. */
const item = (id: number, key: string, files = 4, bytes = 2400) => ({ id, key, files, bytes });
const ids = (batches: { id: number }[][]) => batches.map((b) => b.map((x) => x.id));

describe('batchBy', () => {
  it("defaults to the pipeline's batch limits", () => {
    expect(BATCH_LIMITS).toEqual({ bytes: PIPELINE_DEFAULTS.batchBytes, files: PIPELINE_DEFAULTS.restoreBatchFiles });
    const many = Array.from({ length: 40 }, (_, i) => item(i, 'sda'));
    const batches = batchBy(many, (x) => x);
    expect(batches.every((b) => b.reduce((a, x) => a + x.files, 0) <= PIPELINE_DEFAULTS.restoreBatchFiles)).toBe(true);
    expect(batches.flat().map((x) => x.id)).toEqual(many.map((x) => x.id));
    expect(batches.length).toBe(Math.ceil(40 / Math.floor(PIPELINE_DEFAULTS.restoreBatchFiles / 4)));
  });

  it('keeps each key (a source disk) in batches of its own, in order', () => {
    const items = [item(0, 'a'), item(1, 'b'), item(2, 'a'), item(3, 'b'), item(4, 'a')];
    expect(ids(batchBy(items, (x) => x, { bytes: 1 << 20, files: 8 }))).toEqual([[0, 2], [4], [1, 3]]);
  });
});
