import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Vector } from '../../dist/store/index.js';
import { blockArrays, partitionBlocks, type BlockArrays } from '../../dist/generate/quotes.js';

const SYMBOLS = ['S00001', 'S00007', 'S00012'];

describe('partitionBlocks', () => {
  const bytesOf = (v: Vector) => {
    const a = v.kind === 'sym' ? v.codes : v.kind === 'num' ? v.values : new Uint8Array(0);
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  };
  /** Per column, the sha256 of its bytes over all the blocks in order. */
  const blocksDigest = (seed: number, symbols: string[], rowsPerSymbol: number, blockRows: number, arrays?: BlockArrays) => {
    const perColumn = new Map<string, ReturnType<typeof createHash>>();
    for (const b of partitionBlocks(seed, 15341, symbols, rowsPerSymbol, blockRows, arrays))
      for (const [name, v] of Object.entries(b.cols)) {
        if (!perColumn.has(name)) perColumn.set(name, createHash('sha256'));
        perColumn.get(name)!.update(bytesOf(v));
      }
    return Object.fromEntries([...perColumn].map(([name, h]) => [name, h.digest('hex')]));
  };

  it('gives the same rows in every column whatever the block size, blocks that cut a symbol run included', () => {
    const whole = blocksDigest(3, SYMBOLS, 500, 1500);
    for (const size of [1, 64, 499, 500, 501, 1499]) expect(blocksDigest(3, SYMBOLS, 500, size), `block of ${size} rows`).toEqual(whole);
  });

  it('gives the same rows into arrays the caller keeps across partitions (longer than a block) as into its own', () => {
    const arrays = blockArrays(4096);
    const other = blocksDigest(9, ['S00002', 'S00003'], 700, 1000, arrays);
    expect(blocksDigest(3, SYMBOLS, 500, 1000, arrays)).toEqual(blocksDigest(3, SYMBOLS, 500, 1000));
    expect(other).toEqual(blocksDigest(9, ['S00002', 'S00003'], 700, 1000));
  });

  // Pinned from the generator as it was before its loop was rewritten (2026-11-28): the data
  // `generate` writes for a seed must not change by accident (backups and tests compare it).
  it('gives the rows pinned for seed 7 (every column, sha256 of the blocks in order)', () => {
    const h = createHash('sha256');
    for (const b of partitionBlocks(7, 15340, SYMBOLS, 1000))
      for (const name of ['time', 'symbol', 'price', 'volume', 'side', 'source']) h.update(bytesOf(b.cols[name]!));
    expect(h.digest('hex')).toBe('6d58aee405b92577942ce9222b081623932dfc88783b5e0a27a98f845a11d304');
  });
});
