import fs from 'node:fs';
import path from 'node:path';
import { xxhash } from '../common/xxhash.js';
import { corrupt } from '../common/errors.js';
import { closeQuietly } from '../common/fsio.js';
import type { DatabaseDef, TableDef } from './catalog.js';
import { decodeCodes, decodeNumeric, decodeStrings } from './codec.js';
import { forEachTsdbRowRange } from './level-ranges.js';
import { readTsdbFiles } from './tsdb-format.js';
import { HEADER_BYTES, parseHeader, readExactly } from './framed-file.js';
import { TYPES, typeById, type ColumnDef, type Vector } from './types.js';

/**
 * An OLAP version's columns read a range of rows at a time, in order, so a reader (export) holds
 * one range of every column rather than the partition. Each file's payload is hashed as it is
 * read; `close()` checks every hash against its header, so damage is still found, at the end of
 * the partition rather than before its first row. Only fixed-width columns and SYMBOL: a table
 * with a STRING column is read whole (`rangeReadable` says which). TSDB versions: level-ranges.ts.
 */
export function rangeReadable(t: TableDef): boolean {
  return !t.schema.some((c) => c.type === 'STRING');
}

export class ColumnRanges {
  private readonly fd: number;
  private readonly hash = xxhash.xxh3.Xxh3.withSeed(0n);
  private readonly expect: bigint;
  private readonly width: number;
  private readonly dict: string[] | undefined;
  private readonly dataAt: number;
  private next = 0;
  readonly rows: number;

  constructor(
    private readonly file: string,
    private readonly col: ColumnDef,
  ) {
    this.fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(HEADER_BYTES);
      fs.readSync(this.fd, head, 0, HEADER_BYTES, 0);
      const h = parseHeader(head);
      if (typeof h === 'string') throw corrupt(`${file}: ${h}`);
      if (h.magic !== 'CVCOL' || typeById(h.typeId) !== col.type) throw corrupt(`${file}: not a ${col.type} column file`);
      this.rows = h.rows;
      this.expect = h.payloadXxh3;
      this.width = col.type === 'SYMBOL' ? h.codeWidth : TYPES[col.type].width;
      const dictBytes = h.payloadBytes - h.rows * this.width;
      if (dictBytes < 0 || (col.type !== 'SYMBOL' && dictBytes !== 0)) throw corrupt(`${file}: payload is ${h.payloadBytes} bytes for ${h.rows} rows`);
      if (col.type === 'SYMBOL') {
        const d = this.readAt(HEADER_BYTES, dictBytes);
        this.dict = decodeStrings(d, h.count).values;
      }
      this.dataAt = HEADER_BYTES + dictBytes;
    } catch (err) {
      closeQuietly(this.fd);
      throw err;
    }
  }

  private readAt(pos: number, n: number, into?: Buffer): Buffer {
    const b = readExactly(this.fd, this.file, pos, n, into);
    this.hash.update(b);
    return b;
  }

  /** The SYMBOL column's dictionary, and the width of its codes. */
  get symbols(): { dict: string[]; width: number } {
    return { dict: this.dict ?? [], width: this.width };
  }

  /** Rows [next, next + n) as the file's bytes, read into `into` (reused by the caller: no allocation). */
  readRaw(n: number, into: Buffer): Buffer {
    const b = this.readAt(this.dataAt + this.next * this.width, n * this.width, into);
    this.next += n;
    return b;
  }

  /** Rows [next, next + n) of the column. */
  read(n: number): Vector {
    const b = this.readAt(this.dataAt + this.next * this.width, n * this.width);
    this.next += n;
    if (this.dict) return { kind: 'sym', dict: this.dict, codes: decodeCodes(b, this.width, n) };
    return { kind: 'num', type: this.col.type, values: decodeNumeric(this.col.type, b, n) };
  }

  abandon(): void {
    closeQuietly(this.fd);
  }

  close(): void {
    closeQuietly(this.fd);
    if (this.next === this.rows && this.hash.digest() !== this.expect) throw corrupt(`${this.file}: payload checksum mismatch`);
  }
}

/** A SYMBOL column file's dictionary (read and hashed up to it; the rest of the file is not read). */
export function columnDict(file: string, col: ColumnDef): string[] {
  const r = new ColumnRanges(file, col);
  r.abandon();
  return r.symbols.dict;
}

/**
 * Calls `each` with every range of up to `rangeRows` rows of the first `take` rows of the version
 * in `dir` (which has `rows`), in order. The checksums are checked when every row was read.
 */
export async function forEachRowRange(dir: string, cols: ColumnDef[], rows: number, take: number, rangeRows: number, each: (v: Vector[], n: number) => Promise<void>): Promise<void> {
  const readers: ColumnRanges[] = [];
  try {
    for (const c of cols) readers.push(new ColumnRanges(path.join(dir, `${c.name}.col`), c));
    for (const r of readers) if (r.rows !== rows) throw corrupt(`${dir}: ${r.rows} rows in a column, the catalog says ${rows}`);
    for (let from = 0; from < take; from += rangeRows) {
      const n = Math.min(rangeRows, take - from);
      await each(readers.map((r) => r.read(n)), n);
    }
  } catch (err) {
    for (const r of readers) r.abandon();
    throw err;
  }
  for (const r of readers) r.close();
}

/**
 * forEachRowRange for a version of either engine (the table has no STRING column). A TSDB version
 * whose levels cannot be merged range by range (one is not sorted on its own) is read whole and
 * handed out in the same ranges.
 */
export async function forEachVersionRange(dir: string, def: DatabaseDef, t: TableDef, cols: ColumnDef[], rows: number, take: number, rangeRows: number, each: (v: Vector[], n: number) => Promise<void>): Promise<void> {
  if (def.engine === 'OLAP') return forEachRowRange(dir, cols, rows, take, rangeRows, each);
  const sortColumns = t.sortColumns ?? [];
  if (await forEachTsdbRowRange(dir, t.schema, sortColumns, cols, rows, take, rangeRows, each)) return;
  const data = readTsdbFiles(dir, t.schema, sortColumns);
  for (let from = 0; from < take; from += rangeRows) {
    const n = Math.min(rangeRows, take - from);
    await each(cols.map((c) => rowsOf(data[c.name]!, from, n)), n);
  }
}

/** Rows [from, from + n) of a vector read whole, as a view (strings: a copy). */
function rowsOf(v: Vector, from: number, n: number): Vector {
  if (v.kind === 'sym') return { kind: 'sym', dict: v.dict, codes: v.codes.subarray(from, from + n) };
  if (v.kind === 'str') return { kind: 'str', values: v.values.slice(from, from + n) };
  return { kind: 'num', type: v.type, values: v.values.subarray(from, from + n) };
}
