import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { COMPRESSIONS, COMPRESS_MIN_BYTES, ENCRYPTIONS, MAX_BLOB_BYTES, codecFor, isSealedObject, newMasterKey, zstdDecodedBound, type BlobCodecSpec } from '../../dist/repo/codec/index.js';

/** Quotes-like bytes: compressible, but not trivially (a repeating pattern with noise). */
function sample(n = 300_000): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i % 97) ^ (Math.random() < 0.05 ? 0xff : 0);
  return b;
}

const key = newMasterKey();
const specs: BlobCodecSpec[] = COMPRESSIONS.flatMap((compression) =>
  ENCRYPTIONS.map((encryption) => ({ compression, encryption, ...(encryption === 'aes-256-gcm' ? { masterKey: key } : {}) })),
);
const name = (s: BlobCodecSpec) => `compression ${s.compression}, encryption ${s.encryption}`;

function expectCorrupt(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CORRUPT CvError').toBeInstanceOf(CvError);
  expect((err as CvError).code).toBe('CORRUPT');
}

const flip = (b: Uint8Array, at: number) => {
  const c = Buffer.from(b);
  c[at]! ^= 0x01;
  return c;
};

describe('every codec combination round-trips', () => {
  for (const spec of specs) {
    it(`${name(spec)}: blobs and objects decode to the exact plain bytes`, () => {
      const c = codecFor(spec);
      for (const plain of [sample(), Buffer.alloc(0), randomBytes(5000), Buffer.from('x')]) {
        const e = c.encode(plain);
        expect(Buffer.from(c.decode(e.bytes, e.compression, e.nonce)).equals(plain)).toBe(true);
        expect(Buffer.from(c.openObject(c.sealObject(plain))).equals(plain)).toBe(true);
      }
    });
  }

  it('a codec built in another place from the same spec decodes what the first encoded (workers share only the spec)', () => {
    const spec: BlobCodecSpec = { compression: 'default', encryption: 'aes-256-gcm', masterKey: key };
    const plain = sample();
    const e = codecFor(spec).encode(plain);
    const again = codecFor(JSON.parse(JSON.stringify(spec)) as BlobCodecSpec);
    expect(Buffer.from(again.decode(e.bytes, e.compression, e.nonce)).equals(plain)).toBe(true);
  });
});

describe('compression', () => {
  it('compresses compressible data with zstd at every level but off, and higher levels store no more', () => {
    const plain = sample(1_000_000);
    const sizes = COMPRESSIONS.map((compression) => codecFor({ compression, encryption: 'none' }).encode(plain));
    expect(sizes.map((s) => s.compression)).toEqual(['none', 'zstd', 'zstd', 'zstd']);
    expect(sizes[0]!.bytes.length).toBe(plain.length);
    expect(sizes[1]!.bytes.length).toBeLessThan(plain.length / 2);
    expect(sizes[3]!.bytes.length).toBeLessThanOrEqual(sizes[1]!.bytes.length);
  });

  it('stores incompressible data as it is (compression none), never larger than the file', () => {
    const plain = randomBytes(100_000);
    const e = codecFor({ compression: 'max', encryption: 'none' }).encode(plain);
    expect(e.compression).toBe('none');
    expect(Buffer.from(e.bytes).equals(plain)).toBe(true);
  });

  it('stores a compressible blob below COMPRESS_MIN_BYTES as it is, and compresses one of exactly that size', () => {
    const codec = codecFor({ compression: 'default', encryption: 'none' });
    const small = sample(COMPRESS_MIN_BYTES - 1);
    const e = codec.encode(small);
    expect(e.compression).toBe('none');
    expect(Buffer.from(e.bytes).equals(small)).toBe(true);
    const stored: Uint8Array[] = [];
    const enc = codec.blobEncoder((b) => stored.push(b), small.length);
    enc.update(small);
    expect(enc.end()).toMatchObject({ compression: 'none', length: small.length });
    const atMin = codec.encode(sample(COMPRESS_MIN_BYTES));
    expect(atMin.compression).toBe('zstd');
    expect(atMin.bytes.length).toBeLessThan(COMPRESS_MIN_BYTES);
  });

  it('an unencrypted repository stores objects as their plain bytes (readable JSON)', () => {
    const json = Buffer.from('{"a":1}');
    expect(Buffer.from(codecFor({ compression: 'max', encryption: 'none' }).sealObject(json)).toString()).toBe('{"a":1}');
  });

  it('an unencrypted codec ignores a nonce field (a pack may frame a zero nonce for every blob)', () => {
    const c = codecFor({ compression: 'default', encryption: 'none' });
    const plain = sample();
    const e = c.encode(plain);
    expect(e.nonce).toBeUndefined();
    expect(Buffer.from(c.decode(e.bytes, e.compression, Buffer.alloc(12))).equals(plain)).toBe(true);
  });

  it('a damaged zstd frame is CORRUPT, never garbage or an internal error', () => {
    const c = codecFor({ compression: 'fast', encryption: 'none' });
    const e = c.encode(sample());
    expectCorrupt(() => c.decode(e.bytes.subarray(0, e.bytes.length - 10), 'zstd'));
    expectCorrupt(() => c.decode(Buffer.concat([e.bytes, Buffer.from([0])]), 'zstd'));
    expectCorrupt(() => c.decode(flip(e.bytes, 0), 'zstd'));
    expectCorrupt(() => c.decode(Buffer.from('not zstd at all'), 'zstd'));
  });

  it('refuses a tiny frame that would expand past the blob limit before decoding it (zstd bomb)', () => {
    // One frame of RLE blocks (3-byte header + 1 byte each) of 128 KiB: 4 bytes per 128 KiB of output.
    const blocks = Math.ceil(MAX_BLOB_BYTES / (128 * 1024)) + 1;
    const head = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]); // no FCS, window descriptor
    const body = Buffer.alloc(blocks * 4);
    for (let i = 0; i < blocks; i++) body.writeUIntLE(((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0), i * 4, 3);
    const bomb = Buffer.concat([head, body]);
    expect(zstdDecodedBound(bomb)).toBeGreaterThan(MAX_BLOB_BYTES);
    expectCorrupt(() => codecFor({ compression: 'fast', encryption: 'none' }).decode(bomb, 'zstd'));
  });

  it('the decoded bound of a real frame is at least its decoded size', () => {
    const plain = sample(1_000_000);
    const e = codecFor({ compression: 'default', encryption: 'none' }).encode(plain);
    expect(zstdDecodedBound(e.bytes)).toBeGreaterThanOrEqual(plain.length);
  });
});

describe('encryption', () => {
  const spec: BlobCodecSpec = { compression: 'default', encryption: 'aes-256-gcm', masterKey: key };
  const c = codecFor(spec);
  const plain = sample();

  it('ciphertext holds no plaintext and two encodings of the same blob differ (random nonce)', () => {
    const a = c.encode(Buffer.from('dfs://testdb quotes '.repeat(50)));
    const b = c.encode(Buffer.from('dfs://testdb quotes '.repeat(50)));
    expect(Buffer.from(a.bytes).includes('testdb')).toBe(false);
    expect(Buffer.from(a.nonce!).equals(Buffer.from(b.nonce!))).toBe(false);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(false);
    expect(Buffer.from(c.sealObject(Buffer.from('{"dbPath":"dfs://testdb"}'))).includes('testdb')).toBe(false);
  });

  it('a flipped bit in a blob\'s ciphertext, tag or nonce is CORRUPT', () => {
    const e = c.encode(plain);
    expectCorrupt(() => c.decode(flip(e.bytes, 0), e.compression, e.nonce));
    expectCorrupt(() => c.decode(flip(e.bytes, e.bytes.length - 1), e.compression, e.nonce)); // the tag
    expectCorrupt(() => c.decode(e.bytes, e.compression, flip(e.nonce!, 5)));
    expectCorrupt(() => c.decode(e.bytes.subarray(0, e.bytes.length - 1), e.compression, e.nonce));
    expectCorrupt(() => c.decode(e.bytes, e.compression, undefined));
  });

  it('a blob whose compression flag was edited is CORRUPT (the flag is authenticated)', () => {
    const e = c.encode(plain);
    expect(e.compression).toBe('zstd');
    expectCorrupt(() => c.decode(e.bytes, 'none', e.nonce));
  });

  it('a flipped bit anywhere in a sealed object (header, nonce, ciphertext, tag) is CORRUPT', () => {
    const sealed = c.sealObject(Buffer.from(JSON.stringify({ big: 'x'.repeat(1000) })));
    expect(isSealedObject(sealed)).toBe(true);
    for (const at of [0, 4, 5, 6, 17, 18, 30, sealed.length - 1]) expectCorrupt(() => c.openObject(flip(sealed, at)));
    expectCorrupt(() => c.openObject(sealed.subarray(0, 20)));
  });

  it('another master key opens neither blobs nor objects', () => {
    const other = codecFor({ ...spec, masterKey: newMasterKey() });
    const e = c.encode(plain);
    expectCorrupt(() => other.decode(e.bytes, e.compression, e.nonce));
    expectCorrupt(() => other.openObject(c.sealObject(plain)));
  });

  it('a blob cannot be opened as an object, nor an object as a blob (separate derived keys)', () => {
    const e = c.encode(plain);
    const sealed = Buffer.from(c.sealObject(plain));
    const asObject = Buffer.concat([sealed.subarray(0, 6), Buffer.from(e.nonce!), Buffer.from(e.bytes)]);
    expectCorrupt(() => c.openObject(asObject));
    expectCorrupt(() => c.decode(sealed.subarray(18), 'none', sealed.subarray(6, 18)));
  });

  it('an encrypted codec without a 32-byte master key is refused at construction', () => {
    expect(() => codecFor({ compression: 'off', encryption: 'aes-256-gcm' })).toThrow(/master key/);
    expect(() => codecFor({ compression: 'off', encryption: 'aes-256-gcm', masterKey: randomBytes(16).toString('base64') })).toThrow(/master key/);
  });
});

/** FLOAT prices as `generate` makes them (src/generate/quotes.ts): a random walk of steps up to ±0.01. */
function prices(n: number): Buffer {
  const f = new Float32Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) f[i] = p += (Math.random() - 0.5) * 0.02;
  return Buffer.from(f.buffer);
}

/** A float64 random walk of cents: its 8-byte values repeat whole, and shuffled it compresses worse. */
function walk64(n: number): Buffer {
  const f = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) f[i] = p = Math.round((p + (Math.random() - 0.5) * 0.1) * 100) / 100;
  return Buffer.from(f.buffer);
}

describe('byte-shuffled blobs (files of fixed-width numbers)', () => {
  for (const spec of specs) {
    it(`${name(spec)}: a blob of numbers decodes to the exact plain bytes, in whole and in pieces`, () => {
      const c = codecFor(spec);
      for (const [plain, w] of [[prices(70_001).subarray(3), 4], [prices(300_000), 4], [prices(40_000), 8]] as const) {
        const e = c.encode(plain, w);
        expect(e.compression).toBe(spec.compression === 'off' ? 'none' : `zstd-shuffle${w}`);
        expect(Buffer.from(c.decode(e.bytes, e.compression, e.nonce)).equals(plain)).toBe(true);
        const pieces: Buffer[] = [];
        c.decodeTo(e.bytes, e.compression, e.nonce, (p) => pieces.push(Buffer.from(p)));
        expect(Buffer.concat(pieces).equals(plain)).toBe(true);
      }
    });
  }

  it('stores a column of FLOAT prices smaller shuffled than not', () => {
    const c = codecFor({ compression: 'default', encryption: 'none' });
    const plain = prices(500_000);
    const shuffled = c.encode(plain, 4);
    expect(shuffled.compression).toBe('zstd-shuffle4');
    expect(shuffled.bytes.length).toBeLessThan(0.9 * c.encode(plain).bytes.length);
  });

  it('does not shuffle numbers whose sample compresses worse shuffled (whole repeated values)', () => {
    const c = codecFor({ compression: 'default', encryption: 'none' });
    const plain = walk64(300_000);
    const e = c.encode(plain, 8);
    expect(e.compression).toBe('zstd');
    expect(e.bytes.length).toBe(c.encode(plain).bytes.length);
  });

  it('a shuffled blob edited to read another way is CORRUPT when encrypted (the compression is authenticated)', () => {
    const c = codecFor({ compression: 'default', encryption: 'aes-256-gcm', masterKey: key });
    const e = c.encode(prices(50_000), 4);
    expect(e.compression).toBe('zstd-shuffle4');
    for (const other of ['zstd', 'none', 'zstd-shuffle8'] as const) expectCorrupt(() => c.decode(e.bytes, other, e.nonce));
  });
});
