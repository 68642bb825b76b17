/**
 * The repository's work inside a copy worker (a module task, see io WorkerContext): write a pack
 * from source files, or read blobs back by range (restore writes them to files, check only
 * verifies). The backend and codec are built in the worker from their specs; I/O is synchronous.
 */
import fs from 'node:fs';
import { CvError, conflict, corrupt, fromSystemError } from '../common/errors.js';
import { closeFile, makeDir, openFile, syncFile, writeAll } from '../common/fsio.js';
// hash-hex, not io's index: the index loads the copy pipeline's modules into every worker that imports this.
import { newXxh3, toHex } from '../io/hash-hex.js';
import type { WorkerContext } from '../io/index.js';
import { backendFor, takeAgents, type BackendSpec, type WithAgents, type ByteRange, type ObjectReader, type ObjectSink } from './backend/index.js';
import { codecFor, type BlobCodec, type BlobCodecSpec, type ShuffleWidth } from './codec/index.js';
import { BLOB_RAW_MAX, BLOB_STORED_MAX, decodeBlobTo, packHeader, packObject, type BlobRef, type PackIndex, type PackedFile } from './pack-format.js';
import { writePackIndex, type IndexedEntry } from './pack-index-write.js';
import { HEAD_BYTES, openSource, reuseSame, type SameAs } from './pack-dedup.js';
import { MissingPack, OpenPacks, PackReaders, type ForeignSizes } from './pack-readers.js';

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
export interface ReadFile extends PackedFile {
  /** Where restore writes the plain bytes (created exclusively); absent when only verifying. */
  dst?: string;
}
export interface ReadPackTask {
  op: 'read';
  backend: BackendSpec;
  codec: BlobCodecSpec;
  pack: string;
  packSize: number;
  files: ReadFile[];
  /** The entry (chunkId/table/cid) named in errors about its foreign blobs, and those packs' sizes (pack-readers.ts). */
  key?: string;
  foreign?: ForeignSizes;
  /** false: restored files are not fdatasynced one by one (the caller syncs them as a group). */
  sync?: boolean;
}
/** Many entries' reads as one task (restore of many small partitions: one task each cost more than the copy). */
export interface ReadPacksTask {
  op: 'reads';
  backend: BackendSpec;
  codec: BlobCodecSpec;
  /** `makeDir`: the directory of the entry's dsts, made by the worker (a store stage whose writer makes it). */
  reads: (Omit<ReadPackTask, 'op' | 'backend' | 'codec'> & { makeDir?: string })[];
}
export interface ReadResult {
  size: number;
  xxh3?: string;
  head?: Uint8Array;
  problem?: 'missing' | 'size' | 'checksum' | 'unreadable';
  detail?: string;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
let blobBuf: Buffer | undefined;
/** The worker's buffer for one stored blob, shared by the pack tasks (pack-recode-task too). */
export const blobBuffer = (): Buffer => (blobBuf ??= Buffer.allocUnsafe(BLOB_STORED_MAX));
const codecs = new Map<string, BlobCodec>();
export function codecOf(spec: BlobCodecSpec): BlobCodec {
  const k = JSON.stringify(spec);
  return codecs.get(k) ?? (codecs.set(k, codecFor(spec)).get(k) as BlobCodec);
}
const cancelled = () => new CvError('CANCELLED', 'copy cancelled');

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
        const [into, at] = codec.compresses ? [blobBuf!, got] : [ctx.buf, 0];
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

/** Many entries' reads, each pack opened once for all of them; each `makeDir` made (exclusively) before its files. */
function readPacks(task: ReadPacksTask, ctx: WorkerContext): ReadResult[][] {
  const packs = new OpenPacks(backendFor(task.backend));
  try {
    for (const r of task.reads) packs.cover(r.pack, blobSpan(r.files));
    return task.reads.map(({ makeDir: dir, ...r }) => {
      if (dir !== undefined && !ctx.create(() => makeDir(dir))) throw conflict(`staging directory ${dir} already exists`);
      return readPack({ ...r, op: 'read', backend: task.backend, codec: task.codec }, ctx, packs);
    });
  } finally {
    packs.close();
  }
}

/**
 * Reads files back from a pack by byte range: each blob decoded and checked against its length
 * and xxh3, each file against its size and xxh3. With a dst a problem throws (restore must never
 * commit it); without, problems come back as records (check reports them all).
 */
export function readPack(t: ReadPackTask, ctx: WorkerContext, packs?: OpenPacks): ReadResult[] {
  const codec = codecOf(t.codec);
  const bad = (problem: ReadResult['problem'], detail: string): ReadResult[] => {
    if (t.files.some((f) => f.dst)) throw corrupt(`pack ${t.pack}: ${detail}`);
    return t.files.map(() => ({ size: 0, problem, detail }));
  };
  const backend = backendFor(t.backend);
  let reader: ObjectReader | undefined;
  let readers: PackReaders | undefined;
  try {
    reader = packs ? packs.open(t.pack) : backend.open(packObject(t.pack), blobSpan(t.files));
  } catch (err) {
    return bad('unreadable', err instanceof Error ? err.message : String(err));
  }
  if (!reader) return bad('missing', `pack ${t.pack} is missing`);
  try {
    if (reader.size !== t.packSize) return bad('size', `pack ${t.pack} is ${reader.size} bytes, its index says ${t.packSize}`);
    const r = (readers = new PackReaders(backend, reader, t.foreign, t.files.flatMap((f) => f.blobs)));
    return t.files.map((f) => readFile(f, r, `${t.key ?? `pack ${t.pack}`}/${f.name}`, codec, ctx, t.sync !== false));
  } finally {
    readers?.close();
    if (!packs) reader.close();
  }
}

/** Where a task's blobs lie in their pack (read in this order), for the backend's read-ahead. */
function blobSpan(files: ReadFile[]): ByteRange | undefined {
  let from = Infinity;
  let to = 0;
  for (const b of files.flatMap((f) => f.blobs.filter((x) => x.pack === undefined))) {
    from = Math.min(from, b.offset);
    to = Math.max(to, b.offset + b.length);
  }
  return to > from ? { offset: from, length: to - from } : undefined;
}

/**
 * Each blob is hashed and written in pieces while each is in cache: a zstd blob in the pieces of
 * up to 128 KiB the decoder hands over as it goes, a stored one in pieces of the worker's block
 * (256 KiB). Hashing a 4 MiB blob twice and writing it with one write made the kernel's copy into
 * the page cache miss the cache. 1 GiB as 4 MiB fresh buffers to a cold file, one thread, shared
 * machine, 3 runs: 1.98-2.22 CPU s whole against 0.39 in 256 KiB pieces (1 MiB pieces 1.18-1.53,
 * 512 KiB 0.82).
 */
function readFile(f: ReadFile, readers: PackReaders, what: string, codec: BlobCodec, ctx: WorkerContext, sync: boolean): ReadResult {
  // A file of one blob: the blob's checksum is the file's (writePack), so one hash serves both.
  const whole = f.blobs.length === 1 ? undefined : newXxh3();
  let xxh3 = '';
  let head: Uint8Array | undefined;
  let out: number | undefined;
  try {
    if (f.dst) out = ctx.create(() => openFile(f.dst!, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644));
    for (const b of f.blobs) {
      if (ctx.stopped() || !ctx.acquire(b.rawLength)) throw cancelled();
      const h = newXxh3();
      let got = 0;
      decodeBlobTo(readers.for(b, what), b, codec, blobBuf!, (plain) => {
        // Past rawLength the bytes are not written: a corrupt frame may not grow the file.
        if ((got += plain.byteLength) > b.rawLength) throw corrupt(`a blob of ${f.name} at offset ${b.offset} decodes to more than its ${b.rawLength} bytes`);
        head ??= Uint8Array.from(plain.subarray(0, HEAD_BYTES));
        for (let at = 0; at < plain.byteLength; at += ctx.buf.length) {
          const piece = plain.subarray(at, at + ctx.buf.length);
          h.update(piece);
          whole?.update(piece);
          if (out !== undefined) writeAll(out, piece);
        }
      });
      const blobHash = toHex(h.digest());
      if (got !== b.rawLength || blobHash !== b.xxh3) throw corrupt(`a blob of ${f.name} at offset ${b.offset} does not match its checksum`);
      if (!whole) xxh3 = blobHash;
      ctx.progress(b.rawLength);
    }
    if (whole) xxh3 = toHex(whole.digest());
    if (xxh3 !== f.xxh3) throw corrupt(`${f.name}: expected xxh3 ${f.xxh3}, got ${xxh3}`);
    if (out !== undefined && sync) syncFile(out);
    return { size: f.size, xxh3, head: head ?? new Uint8Array(0) };
  } catch (err) {
    if (f.dst || (err instanceof CvError && err.code === 'CANCELLED')) throw err instanceof CvError ? err : fromSystemError(err, `restore ${f.name}`);
    const detail = err instanceof Error ? err.message : String(err);
    const problem = err instanceof MissingPack ? 'missing' : err instanceof CvError && err.code === 'CORRUPT' ? 'checksum' : 'unreadable';
    return { size: f.size, problem, detail };
  } finally {
    if (out !== undefined) closeFile(out);
  }
}
