import { BLOB_COMPRESSIONS } from './codec/index.js';
import { localBytes, type BlobRef, type PackedEntry, type PackedFile } from './pack-format.js';

/** Where one entry is stored: its pack, the pack's size as indexed, and its files' blobs. */
export interface EntryLocation {
  pack: string;
  packSize: number;
  entry: PackedEntry;
}

// A blob's flag bits: the low two are its compression's place in BLOB_COMPRESSIONS.
if (BLOB_COMPRESSIONS.length > 4) throw new Error('internal: entry-table.ts encodes a compression in two bits');
const RAW_SAME = 4; // rawLength === length: not written
const HASH_SAME = 8; // xxh3 === its file's: not written
const NONCE = 16;
const FOREIGN = 32;

/**
 * Every entry of a repository's pack indexes, held as compact binary records in one growing buffer
 * (issue 14, metadata at scale). Parsed, 200,000 entries of 6 files each are ~1 GB of objects; as
 * records, ~30 MB plus the key map. An entry is decoded into a PackedEntry when it is asked for.
 * Records are written only from validated indexes (pack-format.ts validatePackIndex), so the
 * encoding relies on what validation guarantees: counts are safe integers, checksums 16 lowercase
 * hex digits, foreign pack ids 32, compressions among BLOB_COMPRESSIONS. A key added again (a later
 * index that holds it: a repack or --force copy) wins.
 *
 * Up to HOLD_PARSED entries are held as the parsed objects instead: encoding and decoding each
 * cost a many-shape migrate (8,000 entries) ~0.15 CPU s on its main thread, in front of its first
 * copies. Past that many, every entry held so far is encoded and the table holds only records.
 */
export class EntryTable {
  /** Records are appended to slabs of SLAB bytes: a doubling buffer held up to twice its records, and both while it grew. */
  private readonly slabs: Buffer[] = [];
  private used = 0;
  private readonly at = new Map<string, number>();
  /** Parsed entries, while there are at most HOLD_PARSED; then undefined, and every entry is a record in `at`. */
  private held: Map<string, { packNo: number; entry: PackedEntry }> | undefined = new Map();
  private readonly packs: { id: string; size: number }[] = [];
  private readonly packNo = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly nameNo = new Map<string, number>();

  get size(): number {
    return (this.held ?? this.at).size;
  }
  has(key: string): boolean {
    return (this.held ?? this.at).has(key);
  }
  keys(): IterableIterator<string> {
    return (this.held ?? this.at).keys();
  }
  /** Every indexed pack, in the order its index was read. */
  packList(): readonly { id: string; size: number }[] {
    return this.packs;
  }
  /** The size of an indexed pack, or undefined when no index names it. */
  packSize(id: string): number | undefined {
    const n = this.packNo.get(id);
    return n === undefined ? undefined : this.packs[n]!.size;
  }

  /** Records a validated pack index: the pack, and each of its entries. */
  addPack(id: string, size: number, entries: PackedEntry[]): void {
    const batch = this.pack(id, size);
    for (const e of entries) batch.add(e);
    batch.commit();
  }

  /**
   * A pack's entries added one at a time, each encoded as it comes (its objects die young), and
   * found only once `commit` is called: a reader streaming an index commits once it verified.
   */
  pack(id: string, size: number): { add(e: PackedEntry): void; commit(): void } {
    let n = this.packNo.get(id);
    if (n === undefined) this.packNo.set(id, (n = this.packs.push({ id, size }) - 1));
    const packNo = n;
    const staged: [string, number | PackedEntry][] = [];
    return {
      add: (e) => {
        if (this.held && this.held.size + staged.length >= HOLD_PARSED) this.encodeHeld();
        staged.push([e.key, this.held ? e : this.put(encode(packNo, e, this.nameOf))]);
      },
      commit: () => {
        for (const [key, v] of staged) {
          if (typeof v === 'number') this.at.set(key, v);
          else if (this.held) this.held.set(key, { packNo, entry: v });
          else this.at.set(key, this.put(encode(packNo, v, this.nameOf)));
        }
      },
    };
  }

  /** A file name's number (the names of a table's files repeat in every entry). */
  private readonly nameOf = (name: string): number => {
    let n = this.nameNo.get(name);
    if (n === undefined) this.nameNo.set(name, (n = this.names.push(name) - 1));
    return n;
  };

  /** The pack an entry is in, what its blobs take there (a foreign blob takes nothing), and whether any blob is foreign, without decoding it. */
  summary(key: string): { pack: string; stored: number; foreign: boolean } | undefined {
    const h = this.held?.get(key);
    if (h) return { pack: this.packs[h.packNo]!.id, stored: localBytes(h.entry.files), foreign: hasForeign(h.entry) };
    const at = this.at.get(key);
    if (at === undefined) return undefined;
    const r = this.reader(at);
    const pack = this.packs[r.uint()]!.id;
    return { pack, stored: r.uint(), foreign: r.byte() === 1 };
  }

  location(key: string): EntryLocation | undefined {
    const h = this.held?.get(key);
    if (h) return { pack: this.packs[h.packNo]!.id, packSize: this.packs[h.packNo]!.size, entry: h.entry };
    const at = this.at.get(key);
    if (at === undefined) return undefined;
    const r = this.reader(at);
    const p = this.packs[r.uint()]!;
    r.uint();
    r.byte();
    const cid = r.uint();
    const rows = r.uint();
    const bytes = r.uint();
    const updateTime = r.text();
    const files: PackedFile[] = [];
    for (let i = r.uint(); i > 0; i--) files.push(readFile(r, this.names));
    return { pack: p.id, packSize: p.size, entry: { key, cid, rows, bytes, updateTime, files } };
  }

  /** Past HOLD_PARSED entries: every held entry becomes a record. */
  private encodeHeld(): void {
    for (const [key, h] of this.held!) this.at.set(key, this.put(encode(h.packNo, h.entry, this.nameOf)));
    this.held = undefined;
  }

  /** Copies a record into the last slab (a new one when it does not fit); returns where: slab x 2^32 + offset. */
  private put(rec: Buffer): number {
    let slab = this.slabs.at(-1);
    if (!slab || this.used + rec.length > slab.length) {
      this.slabs.push((slab = Buffer.allocUnsafeSlow(Math.max(SLAB, rec.length))));
      this.used = 0;
    }
    rec.copy(slab, this.used);
    const at = (this.slabs.length - 1) * 2 ** 32 + this.used;
    this.used += rec.length;
    return at;
  }
  private reader(at: number): Reader {
    return new Reader(this.slabs[Math.floor(at / 2 ** 32)]!, at % 2 ** 32);
  }
}

/** One entry's record: its pack, what it stores there, whether a blob is foreign, then its fields, files and blobs. */
function encode(packNo: number, e: PackedEntry, nameOf: (name: string) => number): Buffer {
  const w = new Writer();
  w.uint(packNo);
  w.uint(localBytes(e.files));
  w.byte(hasForeign(e) ? 1 : 0);
  w.uint(e.cid);
  w.uint(e.rows);
  w.uint(e.bytes);
  w.text(e.updateTime);
  w.uint(e.files.length);
  for (const f of e.files) {
    w.uint(nameOf(f.name));
    w.uint(f.size);
    w.hex(f.xxh3);
    w.uint(f.blobs.length);
    for (const b of f.blobs) writeBlob(w, b, f.xxh3);
  }
  return w.done();
}

function writeBlob(w: Writer, b: BlobRef, fileHash: string): void {
  const flags = BLOB_COMPRESSIONS.indexOf(b.compression) | (b.rawLength === b.length ? RAW_SAME : 0) | (b.xxh3 === fileHash ? HASH_SAME : 0) | (b.nonce !== undefined ? NONCE : 0) | (b.pack !== undefined ? FOREIGN : 0);
  w.byte(flags);
  w.uint(b.offset);
  w.uint(b.length);
  if (!(flags & RAW_SAME)) w.uint(b.rawLength);
  if (!(flags & HASH_SAME)) w.hex(b.xxh3);
  if (b.nonce !== undefined) w.text(b.nonce);
  if (b.pack !== undefined) w.hex(b.pack);
}

function readFile(r: Reader, names: string[]): PackedFile {
  const name = names[r.uint()]!;
  const size = r.uint();
  const xxh3 = r.hex(8);
  const blobs: BlobRef[] = [];
  for (let j = r.uint(); j > 0; j--) {
    const flags = r.byte();
    const offset = r.uint();
    const length = r.uint();
    const b: BlobRef = { offset, length, rawLength: flags & RAW_SAME ? length : r.uint(), xxh3: flags & HASH_SAME ? xxh3 : r.hex(8), compression: BLOB_COMPRESSIONS[flags & 3]! };
    if (flags & NONCE) b.nonce = r.text();
    if (flags & FOREIGN) b.pack = r.hex(16);
    blobs.push(b);
  }
  return { name, size, xxh3, blobs };
}

const SLAB = 4 << 20;
/** Entries held parsed before the table turns to records: ~20 MB of objects at 6 files an entry. */
const HOLD_PARSED = 8192;
const hasForeign = (e: PackedEntry) => e.files.some((f) => f.blobs.some((b) => b.pack !== undefined));
/** One record being encoded, in a buffer shared by every table (records are encoded one at a time). */
let scratch = Buffer.allocUnsafe(1 << 16);

class Writer {
  private n = 0;
  private room(k: number): void {
    if (this.n + k > scratch.length) {
      const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, this.n + k));
      scratch.copy(next, 0, 0, this.n);
      scratch = next;
    }
  }
  /** The record, valid until the next one is encoded. */
  done(): Buffer {
    return scratch.subarray(0, this.n);
  }
  byte(v: number): void {
    this.room(1);
    scratch[this.n++] = v;
  }
  /** A count (a safe integer >= 0) as a base-128 varint: arithmetic, not bit operations, past 2^31. */
  uint(v: number): void {
    this.room(8);
    let n = v;
    while (n >= 128) {
      scratch[this.n++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    scratch[this.n++] = n;
  }
  hex(s: string): void {
    this.room(s.length / 2);
    this.n += scratch.write(s, this.n, 'hex');
  }
  text(s: string): void {
    const k = Buffer.byteLength(s, 'utf8');
    this.uint(k);
    this.room(k);
    this.n += scratch.write(s, this.n, 'utf8');
  }
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    private at: number,
  ) {}
  byte(): number {
    return this.buf[this.at++]!;
  }
  uint(): number {
    let n = 0;
    for (let mul = 1; ; mul *= 128) {
      const b = this.buf[this.at++]!;
      n += (b & 127) * mul;
      if (b < 128) return n;
    }
  }
  hex(bytes: number): string {
    return this.buf.toString('hex', this.at, (this.at += bytes));
  }
  text(): string {
    const n = this.uint();
    return this.buf.toString('utf8', this.at, (this.at += n));
  }
}
