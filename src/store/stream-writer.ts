import path from 'node:path';
import { usage } from '../common/errors.js';
import type { Engine, FileEntry, TableDef } from './catalog.js';
import { codeWidthFor, encodeStrings } from './codec.js';
import { FramedFile } from './framed-file.js';
import { DICT_FILE, levelFileName, nameBlock, writeDict } from './tsdb-format.js';
import { TYPES, type ColType, type ColumnDef, type Columns, type NumArray, type Vector } from './types.js';

/**
 * A table version written as its rows arrive, in blocks, so memory stays at one block whatever the
 * size (what `generate` uses). The files are byte for byte what writeTableFiles writes for the same
 * rows in one piece. What must be known up front: the row count and every SYMBOL column's whole
 * dictionary (a block's codes index into it). STRING columns are not supported; for TSDB, blocks
 * must arrive in sort-column order (there is no sort across blocks).
 */
export interface TableStream {
  add(cols: Columns, rows: number): void;
  /** Makes every file durable (fdatasync; the caller's commit fsyncs the directory) and lists them. */
  finish(): { rows: number; files: FileEntry[] };
  abort(): void;
}

/**
 * Encodes blocks into one reused buffer (the same bytes as codec.ts's encodeCodes/encodeNumeric),
 * so a stream allocates nothing per block: garbage ArrayBuffers are freed only when the GC runs,
 * and at one fresh buffer per block and column they made RSS grow with the size written.
 */
class Scratch {
  private buf = new ArrayBuffer(0);
  private take(bytes: number): ArrayBuffer {
    if (this.buf.byteLength < bytes) this.buf = new ArrayBuffer(Math.max(bytes, this.buf.byteLength * 2));
    return this.buf;
  }
  codes(codes: Uint32Array, width: number): Uint8Array {
    const n = codes.length;
    const out = width === 1 ? new Uint8Array(this.take(n), 0, n) : width === 2 ? new Uint16Array(this.take(2 * n), 0, n) : new Uint32Array(this.take(4 * n), 0, n);
    out.set(codes);
    return new Uint8Array(out.buffer, 0, out.byteLength);
  }
  remapped(codes: Uint32Array, remap: Uint32Array): Uint32Array {
    const out = new Uint32Array(this.take(4 * codes.length), 0, codes.length);
    for (let i = 0; i < codes.length; i++) out[i] = remap[codes[i]!]!;
    return out;
  }
  numeric(type: ColType, values: NumArray): Uint8Array {
    if (type !== 'TIMESTAMP') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const v = values as Float64Array;
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
function olapStream(dir: string, t: TableDef, rows: number, dicts: Record<string, string[]>): TableStream {
  const files = t.schema.map((c) => {
    const dict = dicts[c.name];
    const width = dict ? codeWidthFor(dict.length) : 0;
    const f = new FramedFile(path.join(dir, `${c.name}.col`), { magic: 'CVCOL', typeId: TYPES[c.type].id, codeWidth: width, count: dict?.length ?? 0, rows });
    if (dict) for (const p of encodeStrings(dict)) f.append(p);
    return { c, f, width };
  });
  let written = 0;
  const scratch = new Scratch();
  return {
    add(cols, n) {
      for (const { c, f, width } of files) f.append(width ? scratch.codes(symOf(cols[c.name], c.name).codes, width) : scratch.numeric(c.type, numOf(cols[c.name], c.name).values));
      written += n;
    },
    finish() {
      if (written !== rows) throw new Error(`internal: ${written} rows streamed, ${rows} declared`);
      return { rows, files: files.map(({ c, f }) => ({ name: `${c.name}.col`, size: f.finish() })) };
    },
    abort: () => files.forEach(({ f }) => f.abort()),
  };
}

/** TSDB: the chunk dictionary up front, then one level file whose column regions are filled block by block. */
function tsdbStream(dir: string, t: TableDef, rows: number, dicts: Record<string, string[]>): TableStream {
  const dict: string[] = [];
  const index = new Map<string, number>();
  for (const c of t.schema) for (const s of dicts[c.name] ?? []) if (!index.has(s)) index.set(s, dict.push(s) - 1);
  const dictSize = writeDict(dir, dict);
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
    return { c, body, colWidth, remap };
  });
  let written = 0;
  const [scratch, mapping] = [new Scratch(), new Scratch()];
  return {
    add(block, n) {
      for (const { c, body, colWidth, remap } of cols) {
        const bytes = remap ? scratch.codes(mapping.remapped(symOf(block[c.name], c.name).codes, remap), width) : scratch.numeric(c.type, numOf(block[c.name], c.name).values);
        f.writeAt(body + written * colWidth, bytes);
      }
      written += n;
    },
    finish() {
      if (written !== rows) throw new Error(`internal: ${written} rows streamed, ${rows} declared`);
      return { rows, files: [{ name: lvl, size: f.finish(true) }, { name: DICT_FILE, size: dictSize }] };
    },
    abort: () => f.abort(),
  };
}

/** Opens a streamed write of a new table version (no base version) into a stage directory. */
export function openTableStream(dir: string, engine: Engine, t: TableDef, rows: number, dicts: Record<string, string[]>): TableStream {
  checkColumns(t.schema, dicts);
  return engine === 'OLAP' ? olapStream(dir, t, rows, dicts) : tsdbStream(dir, t, rows, dicts);
}
