import { createRequire } from 'node:module';
import path from 'node:path';
import { corrupt } from '../../common/errors.js';
import type { BlobCodecSpec } from './types.js';

/**
 * zstd per blob, synchronous (the copy workers keep their work off libuv's shared pool), through
 * @cloudpss/zstd's streaming classes: zstd 1.5.6 prebuilt per platform inside the npm package,
 * loaded by node-gyp-build, no download or build at install time (see the commit that added it).
 * A Zstd keeps one compression and one decompression stream context, reused frame after frame,
 * and a blob can be fed in the pieces it is read in, while they are in cache. The binding before
 * (@toondepauw/node-zstd) made a new context and a doubling output Vec per blob, freed by N-API
 * finalizers: a wide-shape v2 backup took 169k page faults against 31k with compression off, and
 * its restore peaked at 1.4 GB RSS. This binding's one-shot compress()/decompress() share one
 * static context per process, so they are never called here: the workers are threads.
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
 * Blobs smaller than this are stored as they are, never compressed: each zstd frame costs this
 * binding two fresh 128 KiB output buffers and two calls whatever its size. One core, pieces of
 * the quotes' price column, level 2: 8.1 us for a 256-byte blob (ratio 0.86), 8.7 us for 1 KiB
 * (0.74), 15.2 us for 4 KiB (0.71, 270 MB/s), 31 us for 16 KiB (525 MB/s). In a pipeline the
 * fresh buffers cost more: the many shape's 28,000 column files, all below 4 KiB, took a v2
 * backup 3.37 s compressed against 2.40 s stored (bench-results/2026-11-28-compress-min-sweep.md:
 * 1 KiB 2.57 s storing 10.5 of 14.1 MB, 4 KiB 2.40 s, 16 KiB 2.36 s). From 4 KiB up a blob
 * saves over a KiB and the frame's fixed cost is under three quarters of its time.
 */
export const COMPRESS_MIN_BYTES = 4096;

/**
 * A blob of numbers (byte-shuffle.ts) is shuffled when its first SHUFFLE_SAMPLE_BYTES compress,
 * shuffled, to at most SHUFFLE_TOLERANCE times their plain frame. Quotes data, level 2, 4 MiB
 * blobs, one core, with the WebAssembly shuffle (bench-results/2026-11-28-shuffle-sweep-wasm.md):
 * FLOAT prices 0.751 → 0.508 of raw in 0.38x the CPU; INT volumes 0.508 → 0.515 in 0.52x (so a
 * little more stored is allowed); TSDB level files 0.295 → 0.244 in 0.62x; TIMESTAMPs 0.045 →
 * 0.006 in 0.62x (1.65x with session 11's JavaScript shuffle). All files: 0.295 → 0.233 in 0.56x
 * (0.78x before). A float64
 * random walk of cents stores 0.16 plain and 0.54 shuffled: refused by the sample. Two 64 KiB
 * samples cost ~3% of a 4 MiB blob's compression.
 */
export const SHUFFLE_SAMPLE_BYTES = 64 * 1024;
export const SHUFFLE_TOLERANCE = 1.05;

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

/** The binding's streaming class (lib/binding.cc): one zstd stream context, its output in copies of up to 128 KiB. */
interface ZstdStream {
  data(input: Buffer, out: (b: Buffer) => void): void;
  end(out: (b: Buffer) => void): void;
}
interface ZstdBinding {
  version: string;
  Compressor: new (level: number) => ZstdStream;
  Decompressor: new () => ZstdStream;
}

const require = createRequire(import.meta.url);
const PACKAGE_JSON = '@cloudpss/zstd/package.json';

/** The native binding, loaded when the first codec is made, so commands that never compress do not load it. */
let binding: ZstdBinding | undefined;
function zstdBinding(): ZstdBinding {
  const load = () => (require('node-gyp-build') as (root: string) => ZstdBinding)(path.dirname(require.resolve(PACKAGE_JSON)));
  return (binding ??= load());
}

/** The binding and the zstd it carries, e.g. "@cloudpss/zstd 0.2.16 (zstd 1.5.6)", for benchmark reports. */
export function zstdVersion(): string {
  return `@cloudpss/zstd ${(require(PACKAGE_JSON) as { version: string }).version} (zstd ${zstdBinding().version})`;
}

/** One frame being compressed: its plain bytes go in by update(), its compressed bytes out as they are made. */
export interface ZstdFrame {
  update(plain: Uint8Array): void;
  end(): void;
}

/** One zstd level's compression and decompression contexts, made once per codec (per worker). */
export class Zstd {
  private enc: ZstdStream;
  private dec: ZstdStream;
  private open = false;
  constructor(readonly level: number) {
    const zstd = zstdBinding();
    this.enc = new zstd.Compressor(level);
    this.dec = new zstd.Decompressor();
  }

  /**
   * Starts one frame on the reused context. A frame that failed, or was left open (its blob
   * abandoned: a read failed, the copy was cancelled), leaves the context mid-frame (zstd.h: its
   * state is undefined until reset), so the context is replaced: the binding has no reset.
   */
  frame(out: (z: Buffer) => void): ZstdFrame {
    const fresh = () => (this.enc = new (zstdBinding().Compressor)(this.level));
    if (this.open) fresh();
    this.open = true;
    let plainBytes = 0;
    const guard = (f: () => void) => {
      try {
        f();
      } catch (err) {
        fresh();
        this.open = false;
        throw err;
      }
    };
    return {
      update: (plain) => {
        guard(() => {
          if ((plainBytes += plain.byteLength) > MAX_BLOB_BYTES) throw new Error(`internal: a blob of more than ${MAX_BLOB_BYTES} bytes is over the codec's limit`);
          this.enc.data(asBuffer(plain), out);
        });
      },
      end: () => {
        guard(() => this.enc.end(out));
        this.open = false;
      },
    };
  }

  compress(plain: Uint8Array): Buffer {
    const parts: Buffer[] = [];
    const f = this.frame((z) => parts.push(z));
    f.update(plain);
    f.end();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * Decompresses one frame, its plain bytes to `out` in pieces of up to 128 KiB (each a new
   * buffer); CORRUPT for anything malformed or larger than `maxBytes`. The frame's headers are
   * walked first (zstdDecodedBound), so the decoder only ever sees one whole frame.
   */
  decompressTo(bytes: Uint8Array, out: (plain: Buffer) => void, maxBytes = MAX_BLOB_BYTES): void {
    const bound = zstdDecodedBound(bytes);
    if (bound > maxBytes) throw corrupt(`compressed blob would decode to more than ${maxBytes} bytes`);
    // What `out` throws (a full disk) is its own error, not a corrupt frame: held, and thrown once the frame is done.
    let failed: { err: unknown } | undefined;
    const each = (plain: Buffer) => {
      if (failed) return;
      try {
        out(plain);
      } catch (err) {
        failed = { err };
      }
    };
    try {
      this.dec.data(asBuffer(bytes), each);
      this.dec.end(each);
    } catch (err) {
      // zstd.h: after an error the stream's state is undefined until it is reset; the binding has no reset.
      this.dec = new (zstdBinding().Decompressor)();
      throw corrupt(`compressed blob does not decode: ${(err as Error).message}`);
    }
    if (failed) throw failed.err;
  }

  /** Decompresses one frame whole (see decompressTo). */
  decompress(bytes: Uint8Array, maxBytes = MAX_BLOB_BYTES): Buffer {
    const parts: Buffer[] = [];
    this.decompressTo(bytes, (p) => parts.push(p), maxBytes);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/** A Buffer view of the same memory (no copy). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
