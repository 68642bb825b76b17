import { createRequire } from 'node:module';
import type zstdModule from '@toondepauw/node-zstd';
import { corrupt } from '../../common/errors.js';
import type { BlobCodecSpec } from './types.js';

/**
 * zstd per blob, synchronous (the copy workers keep their work off libuv's shared pool), through
 * @toondepauw/node-zstd: zstd 1.5.7 prebuilt per platform inside the npm packages, no download at
 * install time (see the commit that added it).
 *
 * The levels behind `--compression`, chosen from bench-results/2026-11-27-zstd-sweep.md (every
 * data file of 1 date x 100 symbols of the quotes data, 456 MB, as one blob; one core):
 *   - default 2: stores 0.278 of raw, as level 3 (0.279), at 1.7x its speed (825 vs 484 MB/s);
 *     level 1 stores 0.416 and is no faster on this data (570 MB/s);
 *   - fast 1: zstd's fastest standard level; no gain on the quotes data, 1.9x level 2 on text;
 *   - max 19: 0.222, 16% below level 12 (0.262), at about 1 MB/s: for archives written once.
 */
export const ZSTD_LEVELS: Readonly<Record<Exclude<BlobCodecSpec['compression'], 'off'>, number>> = {
  fast: 1,
  default: 2,
  max: 19,
};

/**
 * The largest blob the codec compresses or decompresses: a larger one must be split by the pack
 * writer. Decoding checks a frame's output bound against it before allocating anything, so a tiny
 * hostile frame (zstd expands an RLE block 128 KiB from 4 bytes) cannot exhaust memory.
 */
export const MAX_BLOB_BYTES = 2 ** 31 - 1;

const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

/**
 * An upper bound of what the single zstd frame `bytes` decodes to, from its headers alone (RFC 8878:
 * frame header, then 3-byte block headers; raw and RLE blocks give their exact size, a compressed
 * block at most 128 KiB). CORRUPT when the bytes are not exactly one well-formed frame.
 */
export function zstdDecodedBound(bytes: Uint8Array): number {
  const bad = (why: string) => corrupt(`compressed blob is malformed: ${why}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 6 || dv.getUint32(0, true) !== MAGIC) throw bad('no zstd frame magic');
  const fhd = bytes[4]!;
  if (fhd & 0x08) throw bad('reserved header bit set');
  const single = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = [single, 2, 4, 8][fcsFlag]!;
  let at = 5 + (single ? 0 : 1) + dictBytes;
  if (at + fcsBytes > bytes.length) throw bad('truncated frame header');
  let declared = Infinity;
  if (fcsBytes === 1) declared = bytes[at]!;
  else if (fcsBytes === 2) declared = dv.getUint16(at, true) + 256;
  else if (fcsBytes === 4) declared = dv.getUint32(at, true);
  else if (fcsBytes === 8) declared = Number(dv.getBigUint64(at, true));
  at += fcsBytes;
  let bound = 0;
  for (let last = false; !last; ) {
    if (at + 3 > bytes.length) throw bad('truncated block header');
    const h = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
    at += 3;
    last = (h & 1) === 1;
    const type = (h >> 1) & 3;
    const size = h >>> 3;
    if (type === 3) throw bad('reserved block type');
    if (size > BLOCK_MAX) throw bad('block larger than 128 KiB');
    at += type === 1 ? 1 : size;
    bound += type === 2 ? BLOCK_MAX : size;
    if (at > bytes.length) throw bad('truncated block');
  }
  if (fhd & 0x04) at += 4; // content checksum
  if (at !== bytes.length) throw bad(at > bytes.length ? 'truncated checksum' : 'bytes after the frame');
  return Math.min(bound, declared);
}

/** The native binding, loaded when the first codec is made, so commands that never compress do not load it. */
let binding: typeof zstdModule | undefined;
const zstdBinding = () => (binding ??= createRequire(import.meta.url)('@toondepauw/node-zstd') as typeof zstdModule);

/** One zstd level's encoder and a decoder, made once per codec (per worker). */
export class Zstd {
  private readonly enc: zstdModule.Encoder;
  private readonly dec: zstdModule.Decoder;
  constructor(readonly level: number) {
    const zstd = zstdBinding();
    this.enc = new zstd.Encoder(level);
    this.dec = new zstd.Decoder();
  }

  compress(plain: Uint8Array): Buffer {
    if (plain.length > MAX_BLOB_BYTES) throw new Error(`internal: a blob of ${plain.length} bytes is over the codec's limit`);
    return this.enc.encodeSync(asBuffer(plain));
  }

  /** Decompresses one frame; CORRUPT for anything malformed or larger than `maxBytes`. */
  decompress(bytes: Uint8Array, maxBytes = MAX_BLOB_BYTES): Buffer {
    const bound = zstdDecodedBound(bytes);
    if (bound > maxBytes) throw corrupt(`compressed blob would decode to more than ${maxBytes} bytes`);
    try {
      return this.dec.decodeSync(asBuffer(bytes));
    } catch (err) {
      throw corrupt(`compressed blob does not decode: ${(err as Error).message}`);
    }
  }
}

/** A Buffer view of the same memory (no copy). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
