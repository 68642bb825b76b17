import { SHUFFLE_WASM } from './shuffle-wasm.js';

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
type Direction = 'shuffle' | 'unshuffle';

/**
 * The transposition runs in WebAssembly (scripts/shuffle-wasm.mjs builds it): 16 values at a time
 * with i8x16.shuffle, the values past the last 16 byte by byte. The same 256 KiB blocks of quotes
 * data, one core: 5.7-6.5 GB/s against ~1.0 GB/s for the JavaScript word loop it replaced, which
 * took more of a compressed backup's CPU than zstd on the shuffled TIMESTAMPs (docs/PERFORMANCE.md,
 * session 12). A kernel's memory holds one block in (at 0) and one out (at SHUFFLE_BLOCK).
 */
interface KernelExports {
  memory: WebAssembly.Memory;
  shuffle4(src: number, dst: number, n: number): void;
  shuffle8(src: number, dst: number, n: number): void;
  unshuffle4(src: number, dst: number, n: number): void;
  unshuffle8(src: number, dst: number, n: number): void;
}

let compiled: WebAssembly.Module | undefined;

class Kernel {
  private readonly k: KernelExports;
  readonly input: Uint8Array;
  readonly output: Uint8Array;
  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(SHUFFLE_WASM, 'base64'));
    this.k = new WebAssembly.Instance(compiled).exports as unknown as KernelExports;
    this.input = new Uint8Array(this.k.memory.buffer, 0, SHUFFLE_BLOCK);
    this.output = new Uint8Array(this.k.memory.buffer, SHUFFLE_BLOCK, SHUFFLE_BLOCK);
  }

  /** Transforms the first `length` bytes of input into output; the last length mod w bytes are kept as they are. */
  run(dir: Direction, w: ShuffleWidth, length: number): void {
    const n = Math.floor(length / w);
    this.k[`${dir}${w}`](0, SHUFFLE_BLOCK, n);
    this.output.set(this.input.subarray(n * w, length), n * w);
  }
}

/** This thread's kernel for one-off blocks (the codec's sample, tests): the block is copied in and out. */
let oneOff: Kernel | undefined;
function transformOnce(dir: Direction, src: Uint8Array, dst: Uint8Array, w: ShuffleWidth): void {
  if (src.length > SHUFFLE_BLOCK || dst.length !== src.length) throw new Error(`internal: a shuffle block of ${src.length} bytes into ${dst.length}`);
  const k = (oneOff ??= new Kernel());
  k.input.set(src);
  k.run(dir, w, src.length);
  dst.set(k.output.subarray(0, src.length));
}

/** Shuffles one block (up to SHUFFLE_BLOCK bytes) of `src` into `dst` (the same length). */
export function shuffleBlock(src: Uint8Array, dst: Uint8Array, w: ShuffleWidth): void {
  transformOnce('shuffle', src, dst, w);
}

/** The inverse of shuffleBlock. */
export function unshuffleBlock(src: Uint8Array, dst: Uint8Array, w: ShuffleWidth): void {
  transformOnce('unshuffle', src, dst, w);
}

/**
 * Cuts a stream of pieces of any size into SHUFFLE_BLOCK blocks, each (un)shuffled into a reused
 * buffer (the kernel's memory) and handed to `emit`, which must be done with it before it returns. One per codec and
 * direction (two 256 KiB buffers), begun again for each blob: a codec handles one blob at a time.
 */
export class BlockShuffler {
  private readonly kernel = new Kernel();
  private used = 0;
  private emit: (b: Uint8Array) => void = () => {};
  private width: ShuffleWidth = 8;
  constructor(private readonly direction: Direction) {}

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
      this.kernel.input.set(piece.subarray(at, at + take), this.used);
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
    this.kernel.run(this.direction, this.width, n);
    this.emit(this.kernel.output.subarray(0, n));
  }
}
