import fs from 'node:fs';
import { xxhash } from '../common/xxhash.js';
import { corrupt } from '../common/errors.js';
import { PieceHash } from '../common/piece-hash.js';
import { closeFile, closeQuietly, openFile, syncFile, writeAll, writeAllv } from '../common/fsio.js';

/**
 * Every store data file is a 64-byte header followed by a payload. The header carries the payload's
 * length and xxh3 and its own xxh3, so a torn or flipped byte anywhere is detected on read.
 *
 *   0  magic (8 bytes)   8 u16 format   10 u8 typeId   11 u8 codeWidth   12 u32 count
 *  16 u64 rows          24 u64 payloadBytes          32 u64 payloadXxh3   40..56 zero
 *  56 u64 xxh3(header[0..56])
 */
export const HEADER_BYTES = 64;
export type Magic = 'CVCOL' | 'CVLVL' | 'CVDICT';

export interface Header {
  magic: Magic;
  typeId: number;
  codeWidth: number;
  count: number;
  rows: number;
}

const magicBytes = (m: Magic) => Buffer.from(m.padEnd(8, '\0'), 'latin1');

export function xxh3Of(parts: Uint8Array[]): bigint {
  // PieceHash: a header (one small part) is hashed in one call, ~10x faster than making a streaming
  // hasher (0.15 s of a many-shape restore's main thread checking 28,000 heads).
  const h = new PieceHash();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The 64-byte header of a payload of `len` bytes whose xxh3 is `payloadXxh3`. */
function frameHeader(head: Header, len: number, payloadXxh3: bigint): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  magicBytes(head.magic).copy(buf, 0);
  buf.writeUInt16LE(1, 8);
  buf.writeUInt8(head.typeId, 10);
  buf.writeUInt8(head.codeWidth, 11);
  buf.writeUInt32LE(head.count, 12);
  buf.writeBigUInt64LE(BigInt(head.rows), 16);
  buf.writeBigUInt64LE(BigInt(len), 24);
  buf.writeBigUInt64LE(payloadXxh3, 32);
  buf.writeBigUInt64LE(xxh3Of([buf.subarray(0, 56)]), 56);
  return buf;
}

/**
 * The same file as writeFramed, with the payload handed over in pieces (`produce` calls `emit`
 * with each): written and hashed as they come, the header last. Holds one piece at a time.
 */
export function writeFramedPieces(file: string, head: Header, produce: (emit: (piece: Uint8Array) => void) => void, sync = true): number {
  const f = new FramedFile(file, head);
  try {
    produce((piece) => f.append(piece));
  } catch (err) {
    f.abort();
    throw err;
  }
  return f.finish(false, sync);
}

const READ_BACK = 4 << 20;
/** hashPayload's buffer, kept: one per call was 4 MiB of garbage per TSDB file streamed by generate. */
let readBack: Buffer | undefined;

/** xxh3 of the first `len` payload bytes of an open framed file, read in 4 MiB pieces; undefined if the file is shorter. */
export function hashPayload(fd: number, len: number): bigint | undefined {
  const h = xxhash.xxh3.Xxh3.withSeed(0n);
  const buf = (readBack ??= Buffer.allocUnsafeSlow(READ_BACK));
  for (let off = 0; off < len; ) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, len - off), HEADER_BYTES + off);
    if (n <= 0) return undefined;
    h.update(buf.subarray(0, n));
    off += n;
  }
  return h.digest();
}

/** Exactly n bytes at pos of an open store file, into `into` (or a new buffer); a short file is CORRUPT. */
export function readExactly(fd: number, file: string, pos: number, n: number, into: Buffer = Buffer.allocUnsafe(n)): Buffer {
  const b = into.subarray(0, n);
  for (let got = 0; got < n; ) {
    const k = fs.readSync(fd, b, got, n - got, pos + got);
    if (k === 0) throw corrupt(`${file}: truncated`);
    got += k;
  }
  return b;
}

/** One framed file: the header is written last, once the payload's length and xxh3 are known. */
export class FramedFile {
  private readonly fd: number;
  private readonly h = xxhash.xxh3.Xxh3.withSeed(0n);
  private len = 0;
  constructor(readonly file: string, private readonly head: Header) {
    const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;
    this.fd = openFile(file, O_RDWR | O_CREAT | O_EXCL, 0o644);
  }
  /** Appends to the payload (and hashes it). */
  append(part: Uint8Array): void {
    writeAll(this.fd, part, HEADER_BYTES + this.len);
    this.h.update(part);
    this.len += part.byteLength;
  }
  /** Writes at a payload offset; the payload is then hashed by reading it back (finish(true)). */
  writeAt(offset: number, part: Uint8Array): void {
    writeAll(this.fd, part, HEADER_BYTES + offset);
    this.len = Math.max(this.len, offset + part.byteLength);
  }
  /** `sync` false: a scratch file (a load's spill), read back before the real files are written and synced. */
  finish(readBack = false, sync = true): number {
    const sum = readBack ? hashPayload(this.fd, this.len) : this.h.digest();
    if (sum === undefined) throw new Error(`internal: ${this.file} is shorter than written`);
    writeAll(this.fd, frameHeader(this.head, this.len, sum), 0);
    if (sync) syncFile(this.fd);
    closeFile(this.fd);
    return HEADER_BYTES + this.len;
  }
  abort(): void {
    closeQuietly(this.fd);
  }
}

/** Writes header + payload and fdatasyncs (unless `sync` is false: scratch files); the caller fsyncs the directory once for all files. */
export function writeFramed(file: string, head: Header, payload: Uint8Array[], sync = true): number {
  const len = payload.reduce((a, p) => a + p.byteLength, 0);
  const buf = frameHeader(head, len, xxh3Of(payload));
  const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
  const fd = openFile(file, O_WRONLY | O_CREAT | O_EXCL, 0o644);
  try {
    // writev may stop short on a full disk; the staging directory holding this file is removed on the error.
    writeAllv(fd, [buf, ...payload]);
    if (sync) syncFile(fd);
  } finally {
    closeFile(fd);
  }
  return HEADER_BYTES + len;
}

export interface ParsedHeader extends Header {
  payloadBytes: number;
  payloadXxh3: bigint;
}

/** The magics as the header's first 8 bytes read as one little-endian u64. */
const MAGIC_OF = new Map((['CVCOL', 'CVLVL', 'CVDICT'] as const).map((m) => [magicBytes(m).readBigUInt64LE(0), m]));

/**
 * Parses and verifies the 64-byte header at the start of `buf`; a string says why it is not one.
 * Called once per file by every backup's workers and every restore's main thread (28,000 times on
 * the many shape), so no strings, streaming hasher or copies: 1.5 against 4.7 us a header (warm).
 */
export function parseHeader(buf: Uint8Array): ParsedHeader | string {
  if (buf.byteLength < HEADER_BYTES) return 'truncated header';
  const b = Buffer.from(buf.buffer, buf.byteOffset, HEADER_BYTES);
  const magic = MAGIC_OF.get(b.readBigUInt64LE(0));
  if (magic === undefined) return 'not a chunkvault data file';
  if (b.readBigUInt64LE(56) !== xxhash.xxh3.xxh64(b.subarray(0, 56))) return 'header checksum mismatch';
  // payloadBytes is a u64; above 2^53 (high word above 2^21 - 1) it is no length a Number can hold.
  const high = b.readUInt32LE(28);
  if (high > 0x1fffff) return 'absurd payload length';
  return {
    magic,
    typeId: b[10]!,
    codeWidth: b[11]!,
    count: b.readUInt32LE(12),
    rows: b.readUInt32LE(20) * 2 ** 32 + b.readUInt32LE(16),
    payloadBytes: high * 2 ** 32 + b.readUInt32LE(24),
    payloadXxh3: b.readBigUInt64LE(32),
  };
}

/** Reads and verifies a framed file; returns its header and payload. */
export function readFramed(file: string, magic: Magic): { head: Header; payload: Buffer } {
  const all = fs.readFileSync(file);
  const bad = (why: string) => corrupt(`${file}: ${why}`);
  const head = parseHeader(all);
  if (typeof head === 'string') throw bad(head);
  if (head.magic !== magic) throw bad(`not a ${magic} file`);
  const payload = all.subarray(HEADER_BYTES);
  if (payload.length !== head.payloadBytes) throw bad(`payload is ${payload.length} bytes, header says ${head.payloadBytes}`);
  if (head.payloadXxh3 !== xxh3Of([payload])) throw bad('payload checksum mismatch');
  const { payloadBytes: _n, payloadXxh3: _x, ...plain } = head;
  return { head: plain, payload };
}

/**
 * The first HEADER_BYTES of a framed file as bytes (undefined when it is shorter): backup's dedup
 * compares files by size and header, which holds the payload's xxh3 (docs/FORMAT.md, "Framed files").
 */
export function readHeaderBytes(file: string): Buffer | undefined {
  // O_NONBLOCK: a FIFO where a file belongs must not hang the caller (it is then no candidate).
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) return undefined;
    const b = Buffer.allocUnsafe(HEADER_BYTES);
    return fs.readSync(fd, b, 0, HEADER_BYTES, 0) === HEADER_BYTES ? b : undefined;
  } finally {
    fs.closeSync(fd);
  }
}
