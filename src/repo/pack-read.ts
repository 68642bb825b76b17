/**
 * The read side of the pack task (pack-task.ts runs it in a copy worker): blobs read back from
 * packs by byte range, decoded and verified; restore writes them to files, check only verifies.
 */
import fs from 'node:fs';
import { CvError, conflict, corrupt, fromSystemError } from '../common/errors.js';
import { closeFile, makeDir, openFile, syncFile, writeAll } from '../common/fsio.js';
// hash-hex, not io's index: the index loads the copy pipeline's modules into every worker that imports this.
import { newXxh3, toHex } from '../io/hash-hex.js';
import type { WorkerContext } from '../io/index.js';
import { backendFor, type BackendSpec, type ByteRange, type ObjectReader } from './backend/index.js';
import { codecFor, type BlobCodec, type BlobCodecSpec } from './codec/index.js';
import { BLOB_STORED_MAX, decodeBlobTo, packObject, type PackedFile } from './pack-format.js';
import { HEAD_BYTES } from './pack-dedup.js';
import { MissingPack, OpenPacks, PackReaders, type ForeignSizes } from './pack-readers.js';

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
export const cancelled = () => new CvError('CANCELLED', 'copy cancelled');

/**
 * Many entries' reads, each pack opened once for all of them. Every stage directory and file of the
 * task is made first, in one hold of the disk's create slot (makeAll), then filled: made one at a
 * time across workers (disk-slots.ts holdCreate), a slot taken per file handed the disk's creates
 * from worker to worker ~36,000 times in a many-shape restore, each handover a futex wake.
 */
export function readPacks(task: ReadPacksTask, ctx: WorkerContext): ReadResult[][] {
  const packs = new OpenPacks(backendFor(task.backend));
  const outs: (number | undefined)[][] = [];
  let ok = false;
  try {
    ctx.create(() => makeAll(task.reads, outs));
    for (const r of task.reads) packs.cover(r.pack, blobSpan(r.files));
    const results = task.reads.map(({ makeDir: _dir, ...r }, i) => readPack({ ...r, op: 'read', backend: task.backend, codec: task.codec }, ctx, packs, outs[i]));
    ok = true;
    return results;
  } finally {
    closeAll(outs, ok);
    packs.close();
  }
}

/** Each read's directory (exclusively: a name that exists is refused) and its files (O_EXCL), as `outs[read][file]`. */
function makeAll(reads: ReadPacksTask['reads'], outs: (number | undefined)[][]): void {
  for (const r of reads) {
    if (r.makeDir !== undefined && !makeDir(r.makeDir)) throw conflict(`staging directory ${r.makeDir} already exists`);
    const fds: (number | undefined)[] = [];
    outs.push(fds);
    for (const f of r.files) fds.push(f.dst ? openFile(f.dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644) : undefined);
  }
}

/** Closes what makeAll opened; after a failure quietly (the first error is the one reported, and the caller removes the stages). */
function closeAll(outs: (number | undefined)[][], ok: boolean): void {
  let first: unknown;
  for (const fd of outs.flat()) {
    if (fd === undefined) continue;
    try {
      closeFile(fd);
    } catch (err) {
      first ??= err;
    }
  }
  if (ok && first !== undefined) throw fromSystemError(first, 'restore: close');
}

/**
 * Reads files back from a pack by byte range: each blob decoded and checked against its length
 * and xxh3, each file against its size and xxh3. With a dst a problem throws (restore must never
 * commit it); without, problems come back as records (check reports them all). The dsts are
 * written to `outs`, the files readPacks made for them (makeAll) and closes.
 */
export function readPack(t: ReadPackTask, ctx: WorkerContext, packs?: OpenPacks, outs: (number | undefined)[] = []): ReadResult[] {
  if (t.files.some((f, i) => f.dst !== undefined && outs[i] === undefined)) throw new Error('internal: a pack read writes files only as a reads task, which makes them');
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
    return t.files.map((f, i) => readFile(f, r, `${t.key ?? `pack ${t.pack}`}/${f.name}`, codec, ctx, t.sync !== false, outs[i]));
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
function readFile(f: ReadFile, readers: PackReaders, what: string, codec: BlobCodec, ctx: WorkerContext, sync: boolean, out: number | undefined): ReadResult {
  // A file of one blob: the blob's checksum is the file's (writePack), so one hash serves both.
  const whole = f.blobs.length === 1 ? undefined : newXxh3();
  let xxh3 = '';
  let head: Uint8Array | undefined;
  try {
    for (const b of f.blobs) {
      if (ctx.stopped() || !ctx.acquire(b.rawLength)) throw cancelled();
      const h = newXxh3();
      let got = 0;
      decodeBlobTo(readers.for(b, what), b, codec, blobBuffer(), (plain) => {
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
  }
}
