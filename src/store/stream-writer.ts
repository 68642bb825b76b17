import path from 'node:path';
import { usage } from '../common/errors.js';
import type { Engine, FileEntry, TableDef } from './catalog.js';
import { codeWidthFor, encodeStrings } from './codec.js';
import { FramedFile } from './framed-file.js';
import { DICT_FILE, levelFileName, nameBlock, writeDict } from './tsdb-format.js';
import { TYPES, type ColType, type ColumnDef, type Columns, type NumArray, type Vector } from './types.js';

/**
 * Table versions written as their rows arrive, in blocks, so memory stays at one block whatever the
 * size (what `generate` uses). The files are byte for byte what writeTableFiles writes for the same
 * rows in one piece. What must be known up front: the row count and every SYMBOL column's whole
 * dictionary (a block's codes index into it). STRING columns are not supported; for TSDB, blocks
 * must arrive in sort-column order (there is no sort across blocks).
 */
interface TableStream {
  add(cols: Columns, rows: number, enc: BlockEncoder): void;
  finish(): { rows: number; files: FileEntry[] };
  abort(): void;
}

/** The same rows written to several table versions at once (generate writes each block to three tables). */
export interface TableStreams {
  add(cols: Columns, rows: number): void;
  /**
   * Makes every file durable (fdatasync; the caller's commit fsyncs the directory) unless opened
   * with `sync: false`, and lists each version's files, in the order of the targets.
   */
  finish(): { rows: number; files: FileEntry[] }[];
  abort(): void;
}

export interface StreamTarget {
  /** The stage directory the version's files go into. */
  dir: string;
  engine: Engine;
  table: TableDef;
}

/** Reused buffers, so a stream allocates nothing per block: garbage ArrayBuffers are freed only when the GC runs, and at one fresh buffer per block and column they made RSS grow with the size written. */
class Scratch {
  private buf = new ArrayBuffer(0);
  private take(bytes: number): ArrayBuffer {
    if (this.buf.byteLength < bytes) this.buf = new ArrayBuffer(Math.max(bytes, this.buf.byteLength * 2));
    return this.buf;
  }
  /** codec.ts's encodeCodes, of `remap[code]` for each code when a remap is given, in one pass. */
  codes(codes: Uint32Array, width: number, remap: Uint32Array | undefined): Uint8Array {
    const n = codes.length;
    const out = width === 1 ? new Uint8Array(this.take(n), 0, n) : width === 2 ? new Uint16Array(this.take(2 * n), 0, n) : new Uint32Array(this.take(4 * n), 0, n);
    if (remap) for (let i = 0; i < n; i++) out[i] = remap[codes[i]!]!;
    else out.set(codes);
    return new Uint8Array(out.buffer, 0, out.byteLength);
  }
  /** codec.ts's encodeNumeric for TIMESTAMP (Float64 in memory, int64 on disk). */
  timestamps(v: Float64Array): Uint8Array {
    const out = new Int32Array(this.take(8 * v.length), 0, 2 * v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      const hi = Math.floor(x / 4294967296);
      out[2 * i] = (x - hi * 4294967296) | 0;
      out[2 * i + 1] = hi;
    }
    return new Uint8Array(out.buffer, 0, out.byteLength);
  }
}

/**
 * Encodes a block's columns once for all the tables it goes to: each encoding is kept until the
 * next block (begin), keyed by column, code width and remap. For generate's three tables this
 * encodes the timestamps once instead of three times, and the symbol codes once for the two OLAP
 * tables and the TSDB one (whose chunk dictionary starts with the symbol dictionary, so its
 * symbol remap is the identity and is skipped). Its buffers are reused from block to block, and
 * from one openTableStreams to the next when the caller passes the same encoder.
 */
export class BlockEncoder {
  private readonly memo = new Map<string, Uint8Array>();
  /** One buffer per encoding of a block, handed out again from the first at each block. */
  private readonly pool: Scratch[] = [];
  private used = 0;
  private readonly remapIds = new WeakMap<Uint32Array, number>();
  private remapCount = 0;

  /** Forgets the previous block's encodings; their buffers are reused. */
  begin(): void {
    this.memo.clear();
    this.used = 0;
  }
  private once(key: string, make: (s: Scratch) => Uint8Array): Uint8Array {
    let bytes = this.memo.get(key);
    if (!bytes) this.memo.set(key, (bytes = make((this.pool[this.used++] ??= new Scratch()))));
    return bytes;
  }
  numeric(name: string, type: ColType, values: NumArray): Uint8Array {
    if (type !== 'TIMESTAMP') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    return this.once(`${name}/ts`, (s) => s.timestamps(values as Float64Array));
  }
  codes(name: string, codes: Uint32Array, width: number, remap?: Uint32Array): Uint8Array {
    let id = '';
    if (remap) {
      if (!this.remapIds.has(remap)) this.remapIds.set(remap, ++this.remapCount);
      id = String(this.remapIds.get(remap));
    }
    return this.once(`${name}/${width}/${id}`, (s) => s.codes(codes, width, remap));
  }
}

const symOf = (v: Vector | undefined, name: string) => {
  if (v?.kind !== 'sym') throw usage(`column ${name} of a block is not a SYMBOL vector`);
  return v;
};
const numOf = (v: Vector | undefined, name: string) => {
  if (v?.kind !== 'num') throw usage(`column ${name} of a block is not a numeric vector`);
  return v;
};

function checkColumns(schema: ColumnDef[], dicts: Record<string, string[]>): void {
  for (const c of schema) {
    if (c.type === 'STRING') throw usage(`column ${c.name}: a streamed table version takes fixed-width columns only`);
    if (c.type === 'SYMBOL' && !dicts[c.name]) throw usage(`column ${c.name}: a streamed SYMBOL column needs its dictionary up front`);
  }
}

/** OLAP: one file per column, each appended to in order. */
function olapStream(dir: string, t: TableDef, rows: number, dicts: Record<string, string[]>, sync: boolean): TableStream {
  const files = t.schema.map((c) => {
    const dict = dicts[c.name];
    const width = dict ? codeWidthFor(dict.length) : 0;
    const f = new FramedFile(path.join(dir, `${c.name}.col`), { magic: 'CVCOL', typeId: TYPES[c.type].id, codeWidth: width, count: dict?.length ?? 0, rows });
    if (dict) for (const p of encodeStrings(dict)) f.append(p);
    return { c, f, width };
  });
  let written = 0;
  return {
    add(cols, n, enc) {
      for (const { c, f, width } of files) f.append(width ? enc.codes(c.name, symOf(cols[c.name], c.name).codes, width) : enc.numeric(c.name, c.type, numOf(cols[c.name], c.name).values));
      written += n;
    },
    finish() {
      if (written !== rows) throw new Error(`internal: ${written} rows streamed, ${rows} declared`);
      return { rows, files: files.map(({ c, f }) => ({ name: `${c.name}.col`, size: f.finish(false, sync) })) };
    },
    abort: () => files.forEach(({ f }) => f.abort()),
  };
}

/** TSDB: the chunk dictionary up front, then one level file whose column regions are filled block by block. */
function tsdbStream(dir: string, t: TableDef, rows: number, dicts: Record<string, string[]>, sync: boolean): TableStream {
  const dict: string[] = [];
  const index = new Map<string, number>();
  for (const c of t.schema) for (const s of dicts[c.name] ?? []) if (!index.has(s)) index.set(s, dict.push(s) - 1);
  const dictSize = writeDict(dir, dict, sync);
  const width = codeWidthFor(index.size);
  const lvl = levelFileName(0, 1);
  const f = new FramedFile(path.join(dir, lvl), { magic: 'CVLVL', typeId: 0, codeWidth: 0, count: t.schema.length, rows });
  let off = 0;
  const cols = t.schema.map((c) => {
    const sym = c.type === 'SYMBOL';
    const colWidth = sym ? width : TYPES[c.type].width;
    const block = nameBlock(c.name, TYPES[c.type].id, sym ? width : 0, rows * colWidth);
    f.writeAt(off, block);
    const body = off + block.length;
    off = body + rows * colWidth;
    const remap = sym ? Uint32Array.from(dicts[c.name]!, (s) => index.get(s)!) : undefined;
    // A remap that changes nothing (the first SYMBOL column's: its dictionary starts the chunk's) is skipped.
    return { c, body, colWidth, remap: remap?.every((v, i) => v === i) ? undefined : remap };
  });
  let written = 0;
  return {
    add(block, n, enc) {
      for (const { c, body, colWidth, remap } of cols) {
        const bytes = c.type === 'SYMBOL' ? enc.codes(c.name, symOf(block[c.name], c.name).codes, width, remap) : enc.numeric(c.name, c.type, numOf(block[c.name], c.name).values);
        f.writeAt(body + written * colWidth, bytes);
      }
      written += n;
    },
    finish() {
      if (written !== rows) throw new Error(`internal: ${written} rows streamed, ${rows} declared`);
      return { rows, files: [{ name: lvl, size: f.finish(true, sync) }, { name: DICT_FILE, size: dictSize }] };
    },
    abort: () => f.abort(),
  };
}

/**
 * Opens a streamed write of the same rows into new table versions (no base version), one per
 * target stage directory. `sync: false` leaves the files without an fdatasync, for a caller that
 * commits the stages with commitStages (one group sync for many). `encoder`: one kept by a caller
 * that writes many versions one after another, so its buffers are reused rather than left to the GC.
 */
export function openTableStreams(targets: StreamTarget[], rows: number, dicts: Record<string, string[]>, opts: { sync?: boolean; encoder?: BlockEncoder } = {}): TableStreams {
  const sync = opts.sync ?? true;
  const streams: TableStream[] = [];
  const enc = opts.encoder ?? new BlockEncoder();
  const abort = () => streams.forEach((s) => s.abort());
  try {
    for (const { dir, engine, table } of targets) {
      checkColumns(table.schema, dicts);
      streams.push(engine === 'OLAP' ? olapStream(dir, table, rows, dicts, sync) : tsdbStream(dir, table, rows, dicts, sync));
    }
  } catch (err) {
    abort();
    throw err;
  }
  return {
    add(cols, n) {
      enc.begin();
      for (const s of streams) s.add(cols, n, enc);
    },
    finish: () => streams.map((s) => s.finish()),
    abort,
  };
}
