/**
 * The repository's work inside a copy worker (a module task, see io WorkerContext): write a pack
 * from source files, or read blobs back by range (restore writes them to files, check only
 * verifies). The backend and codec are built in the worker from their specs; I/O is synchronous.
 */
import fs from 'node:fs';
import { corrupt } from '../common/errors.js';
// hash-hex, not io's index: the index loads the copy pipeline's modules into every worker that imports this.
import { newXxh3, toHex } from '../io/hash-hex.js';
import type { WorkerContext } from '../io/index.js';
import { backendFor, takeAgents, type BackendSpec, type WithAgents, type ObjectSink } from './backend/index.js';
import type { BlobCodec, BlobCodecSpec, ShuffleWidth } from './codec/index.js';
import { BLOB_RAW_MAX, packHeader, packObject, type BlobRef, type PackIndex, type PackedFile } from './pack-format.js';
import { writePackIndex, type IndexedEntry } from './pack-index-write.js';
import { HEAD_BYTES, openSource, reuseSame, type SameAs } from './pack-dedup.js';
import { blobBuffer, cancelled, codecOf, readPack, readPacks, type ReadPackTask, type ReadPacksTask } from './pack-read.js';

export type { ReadFile, ReadPackTask, ReadPacksTask, ReadResult } from './pack-read.js';

export interface WriteSource {
  key: string;
  /**
   * `same`: a dedup candidate's original, referenced if the bytes are confirmed equal (pack-dedup.ts).
   * `shuffle`: the file holds numbers of this width; compressed, its blobs may be byte-shuffled first.
   */
  files: { src: string; name: string; size: number; same?: SameAs; shuffle?: ShuffleWidth }[];
}
export interface WritePackTask {
  op: 'write';
  backend: BackendSpec;
  codec: BlobCodecSpec;
  pack: string;
  entries: WriteSource[];
  /** One per entry: the pack is then indexed here, once durable (pack-index-write.ts). */
  index?: IndexedEntry[];
}
export interface WrittenFile extends PackedFile {
  head: Uint8Array;
}
/** Appends below this size are gathered (see gathered()); larger ones, a big file's blocks, go straight through. */
const GATHER_BELOW = 64 << 10;
const GATHER_BYTES = 256 << 10;
let gatherBuf: Buffer | undefined;

/**
 * The pack's bytes with small appends gathered into one write of up to 256 KiB: a pack of small
 * files made one write() per file (24,000 in a backup-db of the many shape's dfs://testdb, where
 * files are ~600 bytes). `size` counts what is gathered, so blob offsets are unchanged.
 */
function gathered(sink: ObjectSink): { readonly size: number; append(b: Uint8Array): void; flush(): void } {
  const buf = (gatherBuf ??= Buffer.allocUnsafe(GATHER_BYTES));
  let used = 0;
  const flush = () => {
    if (used) sink.append(buf.subarray(0, used));
    used = 0;
  };
  return {
    get size() {
      return sink.size + used;
    },
    append(b: Uint8Array) {
      if (b.byteLength >= GATHER_BELOW || used + b.byteLength > GATHER_BYTES) flush();
      if (b.byteLength >= GATHER_BELOW) return sink.append(b);
      buf.set(b, used);
      used += b.byteLength;
    },
    flush,
  };
}

export default function run(task: WithAgents<WritePackTask | ReadPackTask | ReadPacksTask>, ctx: WorkerContext): unknown {
  blobBuffer();
  takeAgents(task);
  if (task.op === 'reads') return readPacks(task, ctx);
  return task.op === 'write' ? writePack(task, ctx) : readPack(task, ctx);
}

/** Every file of every entry, as blobs, into one new pack; durable (and named) before it returns. */
export function writePack(t: WritePackTask, ctx: WorkerContext): { packSize: number; entries: { key: string; files: WrittenFile[] }[] } | { packSize: number; index: PackIndex } {
  const codec = codecOf(t.codec);
  const backend = backendFor(t.backend);
  const sink = backend.create(packObject(t.pack));
  const out = gathered(sink);
  const entries: { key: string; files: WrittenFile[] }[] = [];
  try {
    out.append(packHeader());
    for (const e of t.entries) entries.push({ key: e.key, files: e.files.map((f) => reuseSame(f, ctx) ?? packFile(f, codec, ctx, out)) });
    out.flush();
    sink.commit();
  } catch (err) {
    sink.abort();
    throw err;
  }
  if (!t.index) return { packSize: sink.size, entries };
  // Indexed here, only the index goes back: the entries' first bytes (a typed array per file) were cloned back for nothing.
  return { packSize: sink.size, index: writePackIndex(backend, codec, t.pack, sink.size, entries.map((e, i) => ({ ...e, meta: t.index![i]! }))) };
}

/**
 * One source file as blobs: read block by block (throttled, cancellable), hashed, encoded, appended.
 * Uncompressed, each block goes from the worker's block buffer (in cache) to the pack at once;
 * compressed, each block is read into its place in blobBuf and compressed while in cache, and the
 * blob is kept there in case it is stored as it is (incompressible). Reading 4 MiB blobs whole and
 * writing them with one write made the kernel's copy into the page cache miss the cache: 0.36-1.3
 * CPU s per GB with compression off against 0.33 for v1's 256 KiB copy loop (one thread, same minutes).
 */
function packFile(f: { src: string; name: string; size: number; shuffle?: ShuffleWidth }, codec: BlobCodec, ctx: WorkerContext, sink: Pick<ObjectSink, 'size' | 'append'>): WrittenFile {
  const fd = openSource(f.src);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw corrupt(`not a regular file: ${f.src}`);
    if (st.size !== f.size) throw corrupt(`size mismatch for ${f.src}: expected ${f.size} bytes, found ${st.size}`);
    const whole = newXxh3();
    const blobs: BlobRef[] = [];
    let head = new Uint8Array(0);
    for (let pos = 0; pos < f.size; ) {
      const raw = Math.min(BLOB_RAW_MAX, f.size - pos);
      // A file of one blob: the blob's checksum is the file's (digest() does not end a hasher).
      const own = raw < f.size;
      const h = own ? newXxh3() : whole;
      const offset = sink.size;
      const enc = codec.blobEncoder((b) => sink.append(b), raw, f.shuffle);
      for (let got = 0; got < raw; ) {
        const want = Math.min(ctx.buf.length, raw - got);
        if (!ctx.acquire(want)) throw cancelled();
        const [into, at] = codec.compresses ? [blobBuffer(), got] : [ctx.buf, 0];
        const n = fs.readSync(fd, into, at, want, null);
        if (n === 0) throw corrupt(`${f.src} shrank while being read`);
        const piece = into.subarray(at, at + n);
        if (pos + got === 0) head = Uint8Array.from(piece.subarray(0, HEAD_BYTES));
        whole.update(piece);
        if (own) h.update(piece);
        enc.update(piece);
        got += n;
        ctx.progress(n);
      }
      const e = enc.end();
      blobs.push({ offset, length: e.length, rawLength: raw, xxh3: toHex(h.digest()), compression: e.compression, ...(e.nonce ? { nonce: Buffer.from(e.nonce).toString('base64') } : {}) });
      pos += raw;
    }
    const now = fs.fstatSync(fd);
    if (now.size !== st.size || now.mtimeMs !== st.mtimeMs) throw corrupt(`${f.src} changed while being copied`);
    return { name: f.name, size: f.size, xxh3: toHex(whole.digest()), blobs, head };
  } finally {
    fs.closeSync(fd);
  }
}

