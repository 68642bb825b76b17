import { randomBytes } from 'node:crypto';
import xxhash from '@node-rs/xxhash';
import { describe, expect, it } from 'vitest';
import { PieceHash } from '../../dist/common/piece-hash.js';
import { toHex } from '../../dist/io/hash-hex.js';

/** The reference: one streaming hasher fed the same pieces. */
function reference(pieces: (Uint8Array | string)[]): bigint {
  const h = xxhash.xxh3.Xxh3.withSeed(0n);
  for (const p of pieces) h.update(p);
  return h.digest();
}

describe('PieceHash', () => {
  const cases: [string, (Uint8Array | string)[]][] = [
    ['no piece', []],
    ['one empty piece', [new Uint8Array(0)]],
    ['one small piece', [randomBytes(600)]],
    ['one piece at the one-shot limit', [randomBytes(2048)]],
    ['one piece past it', [randomBytes(2049)]],
    ['one large piece', [randomBytes(300_000)]],
    ['two small pieces', [randomBytes(100), randomBytes(700)]],
    ['a small then a large piece', [randomBytes(100), randomBytes(100_000)]],
    ['a large then a small piece', [randomBytes(100_000), randomBytes(100)]],
    ['strings and bytes', ['{"a":1', randomBytes(10), ',"b":2}']],
  ];
  for (const [what, pieces] of cases) {
    it(`gives the streaming hasher's digest for ${what}`, () => {
      const h = new PieceHash();
      for (const p of pieces) h.update(p);
      expect(h.digest()).toBe(reference(pieces));
    });
  }

  it('keeps its own copy of a small piece, so a reused buffer does not change the digest', () => {
    const buf = Buffer.from(randomBytes(512));
    const want = reference([Buffer.from(buf)]);
    const h = new PieceHash().update(buf);
    buf.fill(7);
    expect(h.digest()).toBe(want);
  });

  it('can be digested, fed more and digested again, as the streaming hasher can', () => {
    const a = randomBytes(300), b = randomBytes(300);
    const h = new PieceHash().update(a);
    expect(h.digest()).toBe(reference([a]));
    h.update(b);
    expect(h.digest()).toBe(reference([a, b]));
    expect(toHex(h.digest())).toMatch(/^[0-9a-f]{16}$/);
  });
});
