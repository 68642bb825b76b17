import { randomBytes } from 'node:crypto';
import { corrupt } from '../../common/errors.js';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, deriveKeys, open, randomNonce, seal, type RepoKeys } from './aes-gcm.js';
import { blobAad, newBlobEncoder, type ShuffleChoice } from './blob-encoder.js';
import { BlockShuffler, shuffleBlock, type ShuffleWidth } from './byte-shuffle.js';
import { COMPRESS_MIN_BYTES, SHUFFLE_SAMPLE_BYTES, SHUFFLE_TOLERANCE, Zstd, ZSTD_LEVELS, asBuffer } from './zstd.js';
import { BLOB_COMPRESSIONS, shuffleWidthOf, type BlobCodec, type BlobCodecSpec, type BlobCompression, type BlobEncoder } from './types.js';

export { BLOB_COMPRESSIONS, shuffleWidthOf, type BlobCodec, type BlobCodecSpec, type BlobCompression, type BlobEncoder } from './types.js';
export type { ShuffleWidth } from './byte-shuffle.js';
export { COMPRESS_MIN_BYTES, MAX_BLOB_BYTES, ZSTD_LEVELS, Zstd, zstdDecodedBound, zstdVersion } from './zstd.js';

export const COMPRESSIONS: readonly BlobCodecSpec['compression'][] = ['off', 'fast', 'default', 'max'];
export const ENCRYPTIONS: readonly BlobCodecSpec['encryption'][] = ['none', 'aes-256-gcm'];

/**
 * A sealed object when encrypted (docs/FORMAT.md, "Encrypted objects"):
 *   "CVOB" | u8 version 1 | u8 flags (bit 0: the plaintext was zstd-compressed) | 12-byte nonce |
 *   ciphertext | 16-byte tag,
 * with bytes 0..5 as the AEAD's associated data, so the header cannot be edited either.
 * Unencrypted, an object is its plain bytes (its own checksum, src/repo/sealed-json.ts, guards it).
 */
const OBJECT_MAGIC = Buffer.from('CVOB', 'latin1');
const OBJECT_HEAD = OBJECT_MAGIC.length + 2;
const FLAG_ZSTD = 1;

/** A new random master key, base64 (what a BlobCodecSpec carries in memory). */
export function newMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function checkSpec(spec: BlobCodecSpec): Buffer | undefined {
  if (!COMPRESSIONS.includes(spec.compression)) throw new Error(`internal: unknown compression ${JSON.stringify(spec.compression)}`);
  if (!ENCRYPTIONS.includes(spec.encryption)) throw new Error(`internal: unknown encryption ${JSON.stringify(spec.encryption)}`);
  if (spec.encryption === 'none') return undefined;
  const key = Buffer.from(spec.masterKey ?? '', 'base64');
  if (key.length !== KEY_BYTES) throw new Error('internal: an encrypted codec needs its 32-byte master key');
  return key;
}

class Codec implements BlobCodec {
  private readonly zstd: Zstd | undefined;
  private objectZstdMade: Zstd | undefined;
  private shufflers: { enc?: BlockShuffler; dec?: BlockShuffler; sampler?: Zstd; sample?: Uint8Array } = {};
  private readonly keys: RepoKeys | undefined;

  constructor(readonly spec: BlobCodecSpec) {
    const master = checkSpec(spec);
    this.keys = master ? deriveKeys(master) : undefined;
    this.zstd = spec.compression === 'off' ? undefined : new Zstd(ZSTD_LEVELS[spec.compression]);
  }

  /**
   * Made on first use: an uncompressed, unencrypted codec never needs it, and loading the native
   * binding cold took 0.15 s of a many-shape backup-db's start and of each worker's first task.
   */
  private get objectZstd(): Zstd {
    return (this.objectZstdMade ??= new Zstd(ZSTD_LEVELS.default));
  }

  get compresses(): boolean {
    return this.zstd !== undefined;
  }

  /** A blob below COMPRESS_MIN_BYTES skips zstd: it is stored as it is. */
  blobEncoder(append: (stored: Uint8Array) => void, rawLength: number, shuffle?: ShuffleWidth): BlobEncoder {
    const small = rawLength < COMPRESS_MIN_BYTES;
    const choice: ShuffleChoice | undefined = shuffle && !small && this.zstd ? { width: shuffle, shuffler: (this.shufflers.enc ??= new BlockShuffler('shuffle')), pays: (first) => this.shufflePays(first, shuffle) } : undefined;
    return newBlobEncoder(small ? undefined : this.zstd, this.keys?.blob, append, choice);
  }

  /**
   * Whether the blob whose first piece this is pays for its shuffle: its first SHUFFLE_SAMPLE_BYTES
   * compressed both ways at the codec's level (at most 3), on a context of their own (zstd.ts).
   */
  private shufflePays(first: Uint8Array, width: ShuffleWidth): boolean {
    const plain = first.subarray(0, SHUFFLE_SAMPLE_BYTES);
    const shuffled = (this.shufflers.sample ??= new Uint8Array(SHUFFLE_SAMPLE_BYTES)).subarray(0, plain.length);
    shuffleBlock(plain, shuffled, width);
    const z = (this.shufflers.sampler ??= new Zstd(Math.min(this.zstd!.level, 3)));
    return z.compress(shuffled).length <= SHUFFLE_TOLERANCE * z.compress(plain).length;
  }

  encode(plain: Uint8Array, shuffle?: ShuffleWidth): { bytes: Uint8Array; compression: BlobCompression; nonce?: Uint8Array } {
    const parts: Uint8Array[] = [];
    const e = this.blobEncoder((b) => parts.push(b), plain.byteLength, shuffle);
    e.update(plain);
    const { length: _length, ...how } = e.end();
    return { bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts), ...how };
  }

  decode(bytes: Uint8Array, compression: BlobCompression, nonce?: Uint8Array): Uint8Array {
    if (compression === 'zstd') return this.blobZstd.decompress(this.opened(bytes, compression, nonce));
    // decodeTo's pieces may share one buffer: each is copied.
    const parts: Uint8Array[] = [];
    this.decodeTo(bytes, compression, nonce, (p) => parts.push(compression === 'none' ? p : Buffer.from(p)));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  decodeTo(bytes: Uint8Array, compression: BlobCompression, nonce: Uint8Array | undefined, out: (plain: Uint8Array) => void): void {
    const plain = this.opened(bytes, compression, nonce);
    if (compression === 'none') return out(plain);
    if (compression === 'zstd') return this.blobZstd.decompressTo(plain, out);
    const blocks = (this.shufflers.dec ??= new BlockShuffler('unshuffle')).begin(shuffleWidthOf(compression)!, out);
    this.blobZstd.decompressTo(plain, (p) => blocks.push(p));
    blocks.flush();
  }

  /** A blob's stored bytes, authenticated and decrypted when sealed: still compressed when `compression` says so. */
  private opened(bytes: Uint8Array, compression: BlobCompression, nonce: Uint8Array | undefined): Uint8Array {
    if (!BLOB_COMPRESSIONS.includes(compression)) throw corrupt(`blob names an unknown compression ${JSON.stringify(compression)}`);
    // Unencrypted, a nonce (absent, or a zero field of the pack's framing) is ignored.
    return this.keys ? open(this.keys.blob, nonce, bytes, blobAad(compression), 'encrypted blob') : bytes;
  }

  /** Blobs decode with the codec's own context, or (a repository read with compression off) the objects'. */
  private get blobZstd(): Zstd {
    return this.zstd ?? this.objectZstd;
  }

  sealObject(plain: Uint8Array): Uint8Array {
    if (!this.keys) return plain;
    let body = plain;
    let flags = 0;
    if (this.zstd) {
      const z = this.objectZstd.compress(plain);
      if (z.length < plain.length) [body, flags] = [z, FLAG_ZSTD];
    }
    const head = Buffer.concat([OBJECT_MAGIC, Buffer.from([1, flags])]);
    const nonce = randomNonce();
    return Buffer.concat([head, nonce, seal(this.keys.object, nonce, body, head)]);
  }

  openObject(bytes: Uint8Array): Uint8Array {
    if (!this.keys) return bytes;
    return openSealedObject(this.keys.object, bytes, this.objectZstd);
  }
}

function openSealedObject(key: Buffer, bytes: Uint8Array, z: Zstd): Uint8Array {
  const b = asBuffer(bytes);
  if (b.length < OBJECT_HEAD + NONCE_BYTES + TAG_BYTES || !b.subarray(0, OBJECT_MAGIC.length).equals(OBJECT_MAGIC)) throw corrupt('encrypted object is not in the sealed-object format');
  const head = b.subarray(0, OBJECT_HEAD);
  const nonce = b.subarray(OBJECT_HEAD, OBJECT_HEAD + NONCE_BYTES);
  // The header is authenticated: read its fields only once the tag has verified them.
  const body = open(key, nonce, b.subarray(OBJECT_HEAD + NONCE_BYTES), head, 'encrypted object');
  if (head[4] !== 1 || (head[5]! & ~FLAG_ZSTD) !== 0) throw corrupt(`encrypted object has an unknown version ${head[4]} or flags ${head[5]}`);
  return head[5]! & FLAG_ZSTD ? z.decompress(body) : body;
}

/** The codec of a repository's settings; built in each worker from the serialisable spec. */
export function codecFor(spec: BlobCodecSpec): BlobCodec {
  return new Codec(spec);
}

/** Whether `bytes` look like a sealed (encrypted) object, before any key is at hand. */
export function isSealedObject(bytes: Uint8Array): boolean {
  return bytes.length >= OBJECT_MAGIC.length && asBuffer(bytes).subarray(0, OBJECT_MAGIC.length).equals(OBJECT_MAGIC);
}

/** The spec of a plain repository: no compression, no encryption. */
export const PLAIN_CODEC: BlobCodecSpec = { compression: 'off', encryption: 'none' };
