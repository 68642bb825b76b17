import fs from 'node:fs';
import path from 'node:path';
import { corrupt } from '../common/errors.js';
import { closeQuietly } from '../common/fsio.js';
import { decodeCodes, decodeNumeric } from './codec.js';
import { HEADER_BYTES, hashPayload, parseHeader, readExactly } from './framed-file.js';
import { dictRanks, listLevelFiles, readDict } from './tsdb-format.js';
import { TYPES, typeById, type ColumnDef, type Vector } from './types.js';

/**
 * A TSDB version's rows a range at a time, for readers that must not hold a partition (export).
 * Each level file is hashed in one sequential pass before any of its rows is used (its column
 * blocks are then read row range by row range, from the page cache the pass warmed). One level is
 * read in order; several are merged on the sort columns, ties to the earlier level, which is the
 * order readTsdbFiles' stable sort of the concatenated levels gives, as long as each level is
 * sorted on its own: a level that is not makes the caller read the version whole (returns false).
 */

interface Block {
  at: number;
  width: number;
  col: ColumnDef;
}

/** One level file: its header and payload hash checked, and where each column's block starts. */
class Level {
  readonly fd: number;
  readonly rows: number;
  readonly blocks = new Map<string, Block>();

  constructor(readonly file: string, schema: ColumnDef[]) {
    this.fd = fs.openSync(file, 'r');
    try {
      const h = parseHeader(readExactly(this.fd, file, 0, HEADER_BYTES));
      if (typeof h === 'string' || h.magic !== 'CVLVL') throw corrupt(`${file}: ${typeof h === 'string' ? h : 'not a level file'}`);
      if (fs.fstatSync(this.fd).size !== HEADER_BYTES + h.payloadBytes) throw corrupt(`${file}: payload is not ${h.payloadBytes} bytes`);
      this.rows = h.rows;
      if (hashPayload(this.fd, h.payloadBytes) !== h.payloadXxh3) throw corrupt(`${file}: payload checksum mismatch`);
      let off = HEADER_BYTES;
      for (let i = 0; i < h.count; i++) {
        const head = readExactly(this.fd, file, off, 2);
        const nlen = head.readUInt16LE(0);
        const rest = readExactly(this.fd, file, off + 2, nlen + 10);
        const name = rest.toString('utf8', 0, nlen);
        const col = schema.find((c) => c.name === name);
        const bytes = Number(rest.readBigUInt64LE(nlen + 2));
        if (!col || typeById(rest.readUInt8(nlen)) !== col.type || col.type === 'STRING') throw corrupt(`${file}: column ${name} does not match the schema`);
        const width = col.type === 'SYMBOL' ? rest.readUInt8(nlen + 1) : TYPES[col.type].width;
        if (bytes !== width * this.rows) throw corrupt(`${file}: column ${name} holds ${bytes} bytes for ${this.rows} rows`);
        off += 12 + nlen;
        this.blocks.set(name, { at: off, width, col });
        off += bytes;
      }
      for (const c of schema) if (!this.blocks.has(c.name)) throw corrupt(`${file}: column ${c.name} is missing`);
    } catch (err) {
      closeQuietly(this.fd);
      throw err;
    }
  }

  /** Rows [from, from + n) of one column. */
  read(name: string, from: number, n: number, dict: string[]): Vector {
    const { at, width, col } = this.blocks.get(name)!;
    const b = readExactly(this.fd, this.file, at + from * width, n * width);
    if (col.type === 'SYMBOL') return { kind: 'sym', dict, codes: decodeCodes(b, width, n) };
    return { kind: 'num', type: col.type, values: decodeNumeric(col.type, b, n) };
  }
}

/** Sort keys of a window of rows as numbers: SYMBOL codes become the rank of their string in the chunk dictionary. */
function keyOf(v: Vector, rank: Uint32Array): ArrayLike<number> {
  if (v.kind === 'num') return v.values as ArrayLike<number>;
  if (v.kind !== 'sym') throw new Error('internal: STRING sort key in a range read');
  return Uint32Array.from(v.codes, (c) => rank[c]!);
}


/** What a merge needs of a version: its levels, dictionary and the ranks its SYMBOL keys sort by. */
export function openLevels(dir: string, schema: ColumnDef[]): { levels: Level[]; dict: string[]; rank: Uint32Array } {
  const dict = readDict(dir);
  const levels: Level[] = [];
  try {
    for (const f of listLevelFiles(dir)) levels.push(new Level(path.join(dir, f), schema));
  } catch (err) {
    for (const l of levels) closeQuietly(l.fd);
    throw err;
  }
  return { levels, dict, rank: dictRanks(dict) };
}

/** Rows per level read at once while merging. */
const WINDOW = 65_536;

/** A level's current window: the output columns and the sort keys of rows [next, next + len). */
class Cursor {
  next = 0;
  pos = 0;
  len = 0;
  cols: Vector[] = [];
  keys: ArrayLike<number>[] = [];
  constructor(
    private readonly level: Level,
    private readonly out: ColumnDef[],
    private readonly sortCols: string[],
    private readonly dict: string[],
    private readonly rank: Uint32Array,
  ) {
    this.fill();
  }
  get done(): boolean {
    return this.len === 0;
  }
  fill(): void {
    this.next += this.len;
    this.pos = 0;
    this.len = Math.min(WINDOW, this.level.rows - this.next);
    if (this.len === 0) return;
    this.cols = this.out.map((c) => this.level.read(c.name, this.next, this.len, this.dict));
    this.keys = this.sortCols.map((k) => keyOf(this.level.read(k, this.next, this.len, this.dict), this.rank));
  }
  /** Whether this cursor's row sorts before o's (strictly: ties stay with the earlier level). */
  before(o: Cursor): boolean {
    return compareRows(this.keys, this.pos, o.keys, o.pos) < 0;
  }
}

/** -1, 0 or 1 as row i of keys a sorts against row j of keys b. */
function compareRows(a: ArrayLike<number>[], i: number, b: ArrayLike<number>[], j: number): number {
  for (let k = 0; k < a.length; k++) {
    const x = a[k]![i]!, y = b[k]![j]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** True when every level's rows are sorted on the sort columns (a merge then equals the stable sort). */
function levelsSorted(levels: Level[], sortCols: string[], dict: string[], rank: Uint32Array): boolean {
  for (const l of levels) {
    const c = new Cursor(l, [], sortCols, dict, rank);
    let last: number[] | undefined;
    for (; !c.done; c.fill()) {
      if (last && compareRows(last.map((x) => [x]), 0, c.keys, 0) > 0) return false;
      for (let i = 1; i < c.len; i++) if (compareRows(c.keys, i - 1, c.keys, i) > 0) return false;
      last = c.keys.map((k) => k[c.len - 1]!);
    }
  }
  return true;
}

/** Column j of the picked rows (cursor pickL[i], its window row pickR[i]). */
function gather(cursors: Cursor[], j: number, pickL: Uint16Array, pickR: Uint32Array, n: number): Vector {
  const first = cursors.find((c) => !c.done || c.cols.length)!.cols[j]!;
  if (first.kind === 'sym') {
    const codes = new Uint32Array(n);
    for (let i = 0; i < n; i++) codes[i] = (cursors[pickL[i]!]!.cols[j] as Extract<Vector, { kind: 'sym' }>).codes[pickR[i]!]!;
    return { kind: 'sym', dict: first.dict, codes };
  }
  if (first.kind !== 'num') throw new Error('internal: STRING column in a range read');
  const values = new (first.values.constructor as new (n: number) => Float64Array)(n);
  for (let i = 0; i < n; i++) values[i] = (cursors[pickL[i]!]!.cols[j] as Extract<Vector, { kind: 'num' }>).values[pickR[i]!] as number;
  return { kind: 'num', type: first.type, values };
}

/**
 * Calls `each` with ranges of up to `rangeRows` rows (in the order readTsdbFiles gives) of the
 * first `take` rows of the TSDB version in `dir`, which has `rows`. Returns false, having called
 * nothing, when a level is not sorted on its own: the caller then reads the version whole.
 */
export async function forEachTsdbRowRange(dir: string, schema: ColumnDef[], sortColumns: string[], out: ColumnDef[], rows: number, take: number, rangeRows: number, each: (v: Vector[], n: number) => Promise<void>): Promise<boolean> {
  const { levels, dict, rank } = openLevels(dir, schema);
  try {
    if (levels.reduce((a, l) => a + l.rows, 0) !== rows) throw corrupt(`${dir}: the level files hold a different number of rows than the catalog's ${rows}`);
    if (levels.length === 1) {
      for (let from = 0; from < take; from += rangeRows) {
        const n = Math.min(rangeRows, take - from);
        await each(out.map((c) => levels[0]!.read(c.name, from, n, dict)), n);
      }
      return true;
    }
    if (!levelsSorted(levels, sortColumns, dict, rank)) return false;
    const cursors = levels.map((l) => new Cursor(l, out, sortColumns, dict, rank));
    const pickL = new Uint16Array(rangeRows), pickR = new Uint32Array(rangeRows);
    for (let emitted = 0; emitted < take; ) {
      const max = Math.min(rangeRows, take - emitted);
      let n = 0;
      let drained: Cursor | undefined;
      while (n < max && !drained) {
        let best = -1;
        for (let i = 0; i < cursors.length; i++) if (!cursors[i]!.done && (best < 0 || cursors[i]!.before(cursors[best]!))) best = i;
        if (best < 0) throw corrupt(`${dir}: fewer rows than the catalog says`);
        const c = cursors[best]!;
        pickL[n] = best;
        pickR[n++] = c.pos++;
        if (c.pos === c.len) drained = c;
      }
      await each(out.map((_, j) => gather(cursors, j, pickL, pickR, n)), n);
      emitted += n;
      drained?.fill();
    }
    return true;
  } finally {
    for (const l of levels) closeQuietly(l.fd);
  }
}
