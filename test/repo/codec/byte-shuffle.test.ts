import { describe, expect, it } from 'vitest';
import { BlockShuffler, SHUFFLE_BLOCK, shuffleBlock, unshuffleBlock } from '../../../dist/repo/codec/byte-shuffle.js';

/** The definition in docs/FORMAT.md, byte by byte: plane p holds byte p of each w-byte value; the tail stays. */
function reference(src: Uint8Array, w: 4 | 8): Uint8Array {
  const n = Math.floor(src.length / w);
  const out = new Uint8Array(src.length);
  for (let p = 0; p < w; p++) for (let i = 0; i < n; i++) out[p * n + i] = src[i * w + p]!;
  out.set(src.subarray(n * w), n * w);
  return out;
}

function noise(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

describe('byte shuffle', () => {
  it('puts byte p of every 8-byte value into plane p, in value order', () => {
    const src = Uint8Array.from([0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0xee]);
    const dst = new Uint8Array(src.length);
    shuffleBlock(src, dst, 8);
    expect(Array.from(dst)).toEqual([0x10, 0x20, 0x11, 0x21, 0x12, 0x22, 0x13, 0x23, 0x14, 0x24, 0x15, 0x25, 0x16, 0x26, 0x17, 0x27, 0xee]);
    shuffleBlock(src, dst, 4);
    expect(Array.from(dst)).toEqual([0x10, 0x14, 0x20, 0x24, 0x11, 0x15, 0x21, 0x25, 0x12, 0x16, 0x22, 0x26, 0x13, 0x17, 0x23, 0x27, 0xee]);
  });

  it('agrees with the byte-by-byte definition and inverts exactly, at every width, length and alignment', () => {
    const buf = noise(SHUFFLE_BLOCK + 64);
    for (const w of [4, 8] as const) {
      for (const len of [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 4096, 4100, SHUFFLE_BLOCK - 3, SHUFFLE_BLOCK]) {
        for (const off of [0, 1, 4]) {
          const src = buf.subarray(off, off + len);
          const dst = new Uint8Array(len + off).subarray(off);
          shuffleBlock(src, dst, w);
          expect(Buffer.from(dst).equals(Buffer.from(reference(src, w))), `shuffle ${w}, length ${len}, offset ${off}`).toBe(true);
          const back = new Uint8Array(len);
          unshuffleBlock(dst, back, w);
          expect(Buffer.from(back).equals(Buffer.from(src)), `unshuffle ${w}, length ${len}, offset ${off}`).toBe(true);
        }
      }
    }
  });

  it('cuts a stream into the same blocks whatever the sizes of the pieces it arrives in', () => {
    const data = noise(2 * SHUFFLE_BLOCK + 1001, 3);
    const run = (pieces: number[]) => {
      const out: Buffer[] = [];
      const s = new BlockShuffler('shuffle').begin(8, (b) => out.push(Buffer.from(b)));
      let at = 0;
      for (let i = 0; at < data.length; i++) {
        const n = pieces[i % pieces.length]!;
        s.push(data.subarray(at, (at += n)));
      }
      s.flush();
      return out;
    };
    const whole = run([data.length]);
    expect(whole.map((b) => b.length)).toEqual([SHUFFLE_BLOCK, SHUFFLE_BLOCK, 1001]);
    expect(Buffer.concat(run([1, 4095, 100_000, 262_143])).equals(Buffer.concat(whole))).toBe(true);
    expect(Buffer.concat(whole).equals(Buffer.concat([0, 1, 2].map((k) => Buffer.from(reference(data.subarray(k * SHUFFLE_BLOCK, (k + 1) * SHUFFLE_BLOCK), 8)))))).toBe(true);
  });

  it('begun again, a shuffler drops what an abandoned blob left in it', () => {
    const out: number[] = [];
    const s = new BlockShuffler('shuffle').begin(8, () => out.push(-1));
    s.push(new Uint8Array(100));
    s.begin(4, (b) => out.push(b.length));
    s.push(new Uint8Array(16));
    s.flush();
    expect(out).toEqual([16]);
  });
});
