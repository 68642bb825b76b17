import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CvError } from '../../../dist/common/errors.js';
import { Zstd, zstdDecodedBound } from '../../../dist/repo/codec/zstd.js';
import { rmTmp, tmpDir } from '../../helpers/tmp.js';

/**
 * 300,000 bytes: a 2 KiB pseudo-random block repeated with a flipped bit every 4,099 bytes, so its
 * frame spans three 128 KiB blocks yet stays small. fixtures/toondepauw-2.0.0-level2.zst is this
 * data compressed at level 2 by the binding repositories were written with before
 * (@toondepauw/node-zstd 2.0.0, zstd 1.5.7: `new Encoder(2).encodeSync(data())`).
 */
function data(n = 300_000): Buffer {
  const b = Buffer.alloc(n);
  let x = 1;
  for (let i = 0; i < 2048; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  for (let i = 2048; i < n; i++) b[i] = b[i - 2048]! ^ (i % 4099 === 0 ? 1 : 0);
  return b;
}
const OLD_FRAME = path.join(import.meta.dirname, 'fixtures', 'toondepauw-2.0.0-level2.zst');

describe('zstd frames across bindings', () => {
  it('a frame written by the previous binding decodes to the exact bytes', () => {
    const old = fs.readFileSync(OLD_FRAME);
    expect(zstdDecodedBound(old)).toBeGreaterThanOrEqual(300_000);
    expect(new Zstd(2).decompress(old).equals(data())).toBe(true);
  });

  it('a frame this codec writes is one standard frame the zstd command decodes to the exact bytes', () => {
    const dir = tmpDir('zstd-frame');
    const frame = new Zstd(2).compress(data());
    expect(zstdDecodedBound(frame)).toBeGreaterThanOrEqual(300_000);
    fs.writeFileSync(path.join(dir, 'blob.zst'), frame);
    try {
      execFileSync('zstd', ['-q', '-d', path.join(dir, 'blob.zst'), '-o', path.join(dir, 'blob')]);
      expect(fs.readFileSync(path.join(dir, 'blob')).equals(data())).toBe(true);
    } finally {
      rmTmp(dir);
    }
  });
});

describe('the reused contexts', () => {
  it('a frame fed in pieces equals the frame of the whole, frame after frame on one context', () => {
    const z = new Zstd(2);
    const whole = z.compress(data());
    for (let round = 0; round < 3; round++) {
      const parts: Buffer[] = [];
      const f = z.frame((b) => parts.push(b));
      for (let at = 0; at < 300_000; at += 65_536) f.update(data().subarray(at, at + 65_536));
      f.end();
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
    }
  });

  it('a frame abandoned half-way (its blob failed) does not spoil the next frame on the context', () => {
    const z = new Zstd(2);
    const whole = z.compress(data());
    z.frame(() => {}).update(data(200_000));
    const parts: Buffer[] = [];
    const f = z.frame((b) => parts.push(b));
    f.update(data());
    f.end();
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
  });

  it('after a corrupt frame the decoder decodes the next good frame exactly', () => {
    const z = new Zstd(2);
    const good = z.compress(data());
    // Headers intact (the frame passes zstdDecodedBound), the first block's content garbage: the decoder itself fails mid-frame.
    const bad = Buffer.from(good);
    const first = 6 + 3; // magic, frame header descriptor, window descriptor; then the first block header
    const size = (bad[first - 3]! | (bad[first - 2]! << 8) | (bad[first - 1]! << 16)) >>> 3;
    bad.fill(0xff, first, first + size);
    expect(zstdDecodedBound(bad)).toBeGreaterThan(0);
    let err: unknown;
    try {
      z.decompress(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CvError);
    expect((err as CvError).code).toBe('CORRUPT');
    expect(z.decompress(good).equals(data())).toBe(true);
  });

  it('decompressTo hands the plain bytes over in pieces of at most 128 KiB, in order', () => {
    const pieces: Buffer[] = [];
    new Zstd(2).decompressTo(fs.readFileSync(OLD_FRAME), (p) => pieces.push(p));
    expect(pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(128 << 10);
    expect(Buffer.concat(pieces).equals(data())).toBe(true);
  });
});

describe('decompressTo and its consumer', () => {
  it("an error thrown by the consumer is passed on as it is, not as a corrupt frame, and the next frame decodes", () => {
    const z = new Zstd(2);
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    expect(() =>
      z.decompressTo(fs.readFileSync(OLD_FRAME), () => {
        throw full;
      }),
    ).toThrow(full);
    expect(z.decompress(fs.readFileSync(OLD_FRAME)).equals(data())).toBe(true);
  });
});
