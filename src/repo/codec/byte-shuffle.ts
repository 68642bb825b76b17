import os from 'node:os';

/**
 * The byte shuffle of blobs stored as `zstd-shuffle4` and `zstd-shuffle8` (docs/FORMAT.md,
 * "Blobs"), of width W = 4 or 8: the blob's plain bytes are cut into blocks of SHUFFLE_BLOCK bytes
 * (the last one shorter), and in each block the first n = floor(length / W) W-byte values are
 * transposed into W planes: plane p holds byte p of value 0, 1, … n-1, in that order, at offset
 * p·n. The block's last length mod W bytes are kept as they are. This is Blosc's shuffle and
 * Parquet's BYTE_STREAM_SPLIT: in a column of prices or timestamps the high bytes are nearly
 * constant and the low bytes noisy, and zstd gets through the constant planes at once. On the
 * quotes data (bench-results/2026-11-28-shuffle-sweep.md) zstd level 2 stores the FLOAT prices in
 * 0.51 of their bytes shuffled against 0.75 plain, 4x faster; text and some number series get
 * worse, so a blob is shuffled only when the store says it holds numbers and a sample agrees.
 */
export const SHUFFLE_BLOCK = 256 * 1024;
export type ShuffleWidth = 4 | 8;

// The word path reads and writes 32-bit words in the machine's byte order; the format is little-endian.
const LE = os.endianness() === 'LE';

/** Shuffles one block (up to SHUFFLE_BLOCK bytes) of `src` into `dst` (the same length). */
export function shuffleBlock(src: Uint8Array, dst: Uint8Array, w: ShuffleWidth): void {
  const n = Math.floor(src.length / w);
  if (wordPath(src, dst, n)) shuffleWords(words(src, n * w), words(dst, n * w), n >> 2, w >> 2);
  else for (let p = 0; p < w; p++) for (let i = 0; i < n; i++) dst[p * n + i] = src[i * w + p]!;
  dst.set(src.subarray(n * w), n * w);
}

/** The inverse of shuffleBlock. */
export function unshuffleBlock(src: Uint8Array, dst: Uint8Array, w: ShuffleWidth): void {
  const n = Math.floor(src.length / w);
  if (wordPath(src, dst, n)) unshuffleWords(words(src, n * w), words(dst, n * w), n >> 2, w >> 2);
  else for (let p = 0; p < w; p++) for (let i = 0; i < n; i++) dst[i * w + p] = src[p * n + i]!;
  dst.set(src.subarray(n * w), n * w);
}

const words = (b: Uint8Array, bytes: number) => new Uint32Array(b.buffer, b.byteOffset, bytes >> 2);
/** Word at a time when both are 4-aligned and each plane starts on a word (n a multiple of 4): every full block. */
const wordPath = (src: Uint8Array, dst: Uint8Array, n: number) => LE && n % 4 === 0 && src.byteOffset % 4 === 0 && dst.byteOffset % 4 === 0;

/**
 * Four values at a time into one word of each plane, each value h words: 2.1-2.3 GB/s on one core
 * here, against 0.45-0.6 GB/s byte by byte and ~1 GB/s with a loop over the h words inside (256
 * KiB blocks, warm). The per-word helpers are small enough for V8 to inline; one loop taking the
 * helper as an argument (so one loop for both directions) ran at ~1.3 GB/s, so each has its own.
 */
function shuffleWords(v: Uint32Array, o: Uint32Array, q: number, h: number): void {
  if (h === 1) for (let j = 0; j < q; j++) spread(v, o, 4 * j, 1, j, q);
  else
    for (let j = 0; j < q; j++) {
      spread(v, o, 8 * j, 2, j, q);
      spread(v, o, 8 * j + 1, 2, 4 * q + j, q);
    }
}

function unshuffleWords(v: Uint32Array, o: Uint32Array, q: number, h: number): void {
  if (h === 1) for (let j = 0; j < q; j++) gather(v, o, 4 * j, 1, j, q);
  else
    for (let j = 0; j < q; j++) {
      gather(v, o, 8 * j, 2, j, q);
      gather(v, o, 8 * j + 1, 2, 4 * q + j, q);
    }
}

/** Words v[i], v[i+s], v[i+2s], v[i+3s] (one word of four values) to byte lanes of o[p], o[p+q], o[p+2q], o[p+3q]. */
function spread(v: Uint32Array, o: Uint32Array, i: number, s: number, p: number, q: number): void {
  const a = v[i]!, b = v[i + s]!, c = v[i + 2 * s]!, d = v[i + 3 * s]!;
  o[p] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (d << 24);
  o[p + q] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d >>> 8) << 24);
  o[p + 2 * q] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d >>> 16) << 24);
  o[p + 3 * q] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
}

/** The inverse of spread: the same 4×4 byte transpose, read from the planes and written to the values. */
function gather(v: Uint32Array, o: Uint32Array, i: number, s: number, p: number, q: number): void {
  const x0 = v[p]!, x1 = v[p + q]!, x2 = v[p + 2 * q]!, x3 = v[p + 3 * q]!;
  o[i] = (x0 & 0xff) | ((x1 & 0xff) << 8) | ((x2 & 0xff) << 16) | (x3 << 24);
  o[i + s] = ((x0 >>> 8) & 0xff) | (x1 & 0xff00) | ((x2 & 0xff00) << 8) | ((x3 >>> 8) << 24);
  o[i + 2 * s] = ((x0 >>> 16) & 0xff) | ((x1 >>> 8) & 0xff00) | (x2 & 0xff0000) | ((x3 >>> 16) << 24);
  o[i + 3 * s] = (x0 >>> 24) | ((x1 >>> 16) & 0xff00) | ((x2 >>> 8) & 0xff0000) | (x3 & 0xff000000);
}

/**
 * Cuts a stream of pieces of any size into SHUFFLE_BLOCK blocks, each (un)shuffled into a reused
 * buffer and handed to `emit`, which must be done with it before it returns. One per codec and
 * direction (two 256 KiB buffers), begun again for each blob: a codec handles one blob at a time.
 */
export class BlockShuffler {
  private readonly block = new Uint8Array(SHUFFLE_BLOCK);
  private readonly out = new Uint8Array(SHUFFLE_BLOCK);
  private used = 0;
  private emit: (b: Uint8Array) => void = () => {};
  private width: ShuffleWidth = 8;
  constructor(private readonly transform: typeof shuffleBlock) {}

  /** Starts a blob of `width`-byte values whose blocks go to `emit`; anything left of an abandoned blob is dropped. */
  begin(width: ShuffleWidth, emit: (b: Uint8Array) => void): this {
    this.used = 0;
    this.width = width;
    this.emit = emit;
    return this;
  }

  push(piece: Uint8Array): void {
    for (let at = 0; at < piece.length; ) {
      const take = Math.min(SHUFFLE_BLOCK - this.used, piece.length - at);
      this.block.set(piece.subarray(at, at + take), this.used);
      this.used += take;
      at += take;
      if (this.used === SHUFFLE_BLOCK) this.flush();
    }
  }

  /** Emits the short last block, if any. */
  flush(): void {
    if (!this.used) return;
    const n = this.used;
    this.used = 0;
    this.transform(this.block.subarray(0, n), this.out.subarray(0, n), this.width);
    this.emit(this.out.subarray(0, n));
  }
}
