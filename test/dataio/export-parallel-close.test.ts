import { describe, expect, it } from 'vitest';
import { ParallelCsv } from '../../dist/dataio/export-parallel.js';

describe('parallel CSV export close', () => {
  it('close with pieces still out lets every one finish before it stops the workers', async () => {
    const n = 40_000;
    const p = new ParallelCsv({ workers: 2, pieceRows: 1_000, inFlight: 40 }, ',', async () => undefined);
    await p.put([{ name: 'a', type: 'INT' }] as never, [{ kind: 'num', type: 'INT', values: new Int32Array(n).fill(7) }], n);
    // The queue is private; its promises are the only witness of whether a piece was cut off by
    // the pool's destroy ("Terminating worker thread") or answered after it.
    const out = [...(p as unknown as { queue: Promise<Buffer>[] }).queue];
    expect(out).toHaveLength(40);
    await p.close();
    const settled = await Promise.allSettled(out);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
  });
});
