import { randomBytes } from 'node:crypto';
import { corrupt } from '../common/errors.js';
import type { ObjectReader } from './backend/index.js';
import { BLOB_COMPRESSIONS, type BlobCodec, type BlobCompression } from './codec/index.js';
import type { ManifestEntry, ManifestFile } from './manifest.js';
import { checkChunkId, checkCid, checkFileName, checkIdent } from './names.js';

/**
 * Repository v2's pack format (docs/FORMAT.md, "Repository v2"). A pack object holds a 16-byte
 * header and then blobs back to back; what is where is recorded only in the pack's index object.
 * A file is stored as one or more blobs of at most BLOB_RAW_MAX plain bytes, each encoded by the
 * repository's codec on its own, so a reader never holds more than one blob in memory.
 */
export const PACK_MAGIC = Buffer.from('CVPACK\0\0', 'latin1');
export const PACK_HEADER_BYTES = 16;
export const PACK_VERSION = 1;
/** Plain bytes per blob: 4 MiB keeps the index at ~10 records per 40 MiB and one blob per small file. */
export const BLOB_RAW_MAX = 4 << 20;
/** What an encoded blob may take: zstd's worst case and a GCM tag fit well inside this. */
export const BLOB_STORED_MAX = BLOB_RAW_MAX + (64 << 10);

export function packHeader(): Buffer {
  const h = Buffer.alloc(PACK_HEADER_BYTES);
  PACK_MAGIC.copy(h, 0);
  h.writeUInt16LE(PACK_VERSION, 8);
  return h;
}

export const newPackId = () => randomBytes(16).toString('hex');
const PACK_ID_RE = /^[0-9a-f]{32}$/;
export const isPackId = (s: string) => PACK_ID_RE.test(s);
export const packObject = (id: string) => `packs/${id.slice(0, 2)}/${id}`;
export const indexObject = (id: string) => `index/${id}`;

/** Where one blob is: recorded in the pack index. xxh3 is of the plain bytes (16 hex digits). */
export interface BlobRef {
  offset: number;
  length: number;
  rawLength: number;
  xxh3: string;
  compression: BlobCompression;
  /** base64, set when the blob is encrypted. */
  nonce?: string;
  /** A foreign blob (dedup): the id of the other pack of this repository that holds it; absent, this pack. */
  pack?: string;
}
export interface PackedFile extends ManifestFile {
  blobs: BlobRef[];
}
/** One (chunkId, table, cid) in a pack: the manifest entry plus where each file's blobs are. */
export interface PackedEntry extends Omit<ManifestEntry, 'files'> {
  key: string;
  files: PackedFile[];
}
/** The body of `index/<packId>`: format 2 when it has a foreign blob, which an older reader must refuse. */
export interface PackIndex {
  format: 1 | 2;
  pack: string;
  packSize: number;
  entries: PackedEntry[];
}

/** The packs other than its own that an index's blobs name (foreign blobs). */
export const foreignPacks = (entries: PackedEntry[]): Set<string> => new Set(entries.flatMap((e) => e.files.flatMap((f) => f.blobs.flatMap((b) => (b.pack === undefined ? [] : [b.pack])))));
/** What a blob takes in its own pack: a foreign blob takes nothing there. */
export const localBytes = (files: PackedFile[]): number => files.reduce((a, f) => a + f.blobs.reduce((b, x) => b + (x.pack === undefined ? x.length : 0), 0), 0);

export const toManifestEntry = (e: PackedEntry): ManifestEntry => ({ cid: e.cid, rows: e.rows, bytes: e.bytes, updateTime: e.updateTime, files: e.files.map((f) => ({ name: f.name, size: f.size, xxh3: f.xxh3 })) });

const KEY_RE = /^([^/]+)\/([^/]+)\/(\d+)$/;
const HEX16 = /^[0-9a-f]{16}$/;
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * A pack index is untrusted input: its names must be safe, its numbers counts, its blobs inside
 * the pack, after the header, in order and never overlapping, each within the size limits, and
 * each file's blobs must add up to the file. A foreign blob names another valid pack id (only in
 * format 2) and is exempt from the order rule; its range is checked against that pack when read
 * (pack-readers.ts). Anything else is CORRUPT naming the index.
 */
export function validatePackIndex(v: unknown, packId: string, what: string): PackIndex {
  const ix = checkPackHead(v, packId, what);
  if (!Array.isArray(ix.entries)) throw corrupt(`${what} is not a pack index of pack ${packId}`);
  const check = packEntryChecker(ix, packId, what);
  for (const e of ix.entries) check(e);
  return ix;
}

/** The fields of a pack index but its entries, checked (validatePackIndex; a reader that streams the entries checks them with packEntryChecker). */
export function checkPackHead(v: unknown, packId: string, what: string): PackIndex {
  const ix = v as PackIndex;
  if (ix === null || typeof ix !== 'object' || (ix.format !== 1 && ix.format !== 2) || ix.pack !== packId || !isCount(ix.packSize)) throw corrupt(`${what} is not a pack index of pack ${packId}`);
  return ix;
}

/** Checks the entries of one index in their order (the blobs' order and repeated keys span entries): validatePackIndex's rules. */
export function packEntryChecker(ix: Pick<PackIndex, 'format' | 'packSize'>, packId: string, what: string): (e: PackedEntry) => PackedEntry {
  let end = PACK_HEADER_BYTES;
  const keys = new Set<string>();
  return (e) => {
    const k = KEY_RE.exec(typeof e?.key === 'string' ? e.key : '');
    if (!k || keys.has(e.key)) throw corrupt(`${what} names a bad or repeated entry ${JSON.stringify(e?.key)}`);
    keys.add(e.key);
    checkChunkId(k[1]);
    checkIdent('table name', k[2]);
    if (checkCid(e.cid) !== Number(k[3]) || !isCount(e.rows) || !isCount(e.bytes) || typeof e.updateTime !== 'string' || !Array.isArray(e.files) || !e.files.length) throw corrupt(`${what}: entry ${e.key} is malformed`);
    const names = new Set<string>();
    let bytes = 0;
    for (const f of e.files) {
      if (names.has(checkFileName(f?.name)) || !isCount(f.size) || typeof f.xxh3 !== 'string' || !HEX16.test(f.xxh3) || !Array.isArray(f.blobs)) throw corrupt(`${what}: file ${JSON.stringify(f?.name)} of ${e.key} is malformed`);
      names.add(f.name);
      bytes += f.size;
      let raw = 0;
      for (const b of f.blobs) {
        if (!isCount(b?.offset) || !isCount(b.length) || !isCount(b.rawLength) || typeof b.xxh3 !== 'string' || !HEX16.test(b.xxh3)) throw corrupt(`${what}: a blob of ${e.key}/${f.name} is malformed`);
        if (!BLOB_COMPRESSIONS.includes(b.compression)) throw corrupt(`${what}: a blob of ${e.key}/${f.name} has unknown compression ${JSON.stringify(b.compression)}`);
        if (b.nonce !== undefined && (typeof b.nonce !== 'string' || !/^[A-Za-z0-9+/]{1,64}={0,2}$/.test(b.nonce))) throw corrupt(`${what}: a blob of ${e.key}/${f.name} has a bad nonce`);
        if (b.rawLength > BLOB_RAW_MAX || b.length > BLOB_STORED_MAX) throw corrupt(`${what}: a blob of ${e.key}/${f.name} is larger than a blob may be`);
        raw += b.rawLength;
        if (b.pack !== undefined) {
          if (typeof b.pack !== 'string' || !isPackId(b.pack) || b.pack === packId || ix.format !== 2) throw corrupt(`${what}: a blob of ${e.key}/${f.name} names a bad foreign pack ${JSON.stringify(b.pack)}`);
          continue;
        }
        if (b.offset < end) throw corrupt(`${what}: blobs of ${e.key}/${f.name} overlap or are out of order`);
        end = b.offset + b.length;
        if (end > ix.packSize) throw corrupt(`${what}: a blob of ${e.key}/${f.name} ends past the end of the pack`);
      }
      if (raw !== f.size) throw corrupt(`${what}: the blobs of ${e.key}/${f.name} hold ${raw} bytes, the file ${f.size}`);
    }
    if (bytes !== e.bytes) throw corrupt(`${what}: entry ${e.key} says ${e.bytes} bytes, its files hold ${bytes}`);
    return e;
  };
}

/** A blob's plain bytes: its stored bytes read from its pack into `into` (at least its length), then decoded (and, sealed, opened). */
export function decodeBlob(reader: ObjectReader, b: BlobRef, codec: BlobCodec, into: Uint8Array): Uint8Array {
  return codec.decode(...storedBlob(reader, b, into));
}

/** decodeBlob, the plain bytes handed to `out` in pieces (BlobCodec.decodeTo). */
export function decodeBlobTo(reader: ObjectReader, b: BlobRef, codec: BlobCodec, into: Uint8Array, out: (plain: Uint8Array) => void): void {
  codec.decodeTo(...storedBlob(reader, b, into), out);
}

function storedBlob(reader: ObjectReader, b: BlobRef, into: Uint8Array): [Uint8Array, BlobCompression, Uint8Array | undefined] {
  const stored = into.subarray(0, b.length);
  reader.readAt(stored, b.offset, b.length);
  return [stored, b.compression, b.nonce === undefined ? undefined : Buffer.from(b.nonce, 'base64')];
}
