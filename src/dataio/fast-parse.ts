import { allocNumeric, NULL_VALUE, type ColType, type ColumnDef, type NumArray, type Vector } from '../store/index.js';
import { calendarDays, parseValue } from './values.js';

/**
 * The fast path of a parallel load: a piece of CSV that holds no quote and no CR, parsed straight
 * from its bytes into column blocks (no decoded text, no field arrays). Timestamps, dates, plain
 * decimals and integers are read with integer math; SYMBOL cells of up to 6 bytes are keyed by a
 * number made of their bytes. Any cell these readers do not take goes through `parseValue` (the
 * reference), so the values are the ones the record parser gives. Anything wrong (a bad value, a
 * short or long row) returns undefined: the caller parses the piece again with the record parser,
 * which names the line, column and value.
 */

const MS_PER_DAY = 86_400_000;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const dayOf = new Map<number, number>();

/** Days since 1970 of yyyy?MM?dd at s (separators . or -), or NaN. */
function dateAt(b: Uint8Array, s: number): number {
  const sep1 = b[s + 4], sep2 = b[s + 7];
  if ((sep1 !== 46 && sep1 !== 45) || (sep2 !== 46 && sep2 !== 45)) return NaN;
  const ymd = digits(b, s, 4) * 10000 + digits(b, s + 5, 2) * 100 + digits(b, s + 8, 2);
  if (ymd !== ymd) return NaN;
  let d = dayOf.get(ymd);
  if (d === undefined) {
    d = calendarDays(Math.floor(ymd / 10000), Math.floor(ymd / 100) % 100, ymd % 100) ?? NaN;
    if (dayOf.size > 100_000) dayOf.clear();
    dayOf.set(ymd, d);
  }
  return d;
}

function digits(b: Uint8Array, s: number, n: number): number {
  let v = 0;
  for (let i = s; i < s + n; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** yyyy.MM.ddTHH:mm:ss.mmm (T or space), or NaN. */
function timestampAt(b: Uint8Array, s: number, e: number): number {
  if (e - s !== 23) return NaN;
  const t = b[s + 10];
  if ((t !== 84 && t !== 32) || b[s + 13] !== 58 || b[s + 16] !== 58 || b[s + 19] !== 46) return NaN;
  const h = digits(b, s + 11, 2), mi = digits(b, s + 14, 2), sec = digits(b, s + 17, 2), ms = digits(b, s + 20, 3);
  if (!(h <= 23 && mi <= 59 && sec <= 59 && ms === ms)) return NaN;
  return dateAt(b, s) * MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
}

/**
 * [+-]digits[.digits] with at most 15 digits, or NaN. An integer below 2^53 divided by an exact
 * power of ten is one correctly rounded division: the double Number(text) gives.
 */
function decimalAt(b: Uint8Array, s: number, e: number): number {
  let i = s, neg = false;
  if (b[i] === 45) (neg = true), i++;
  else if (b[i] === 43) i++;
  let m = 0, nd = 0, frac = -1;
  for (; i < e; i++) {
    const c = b[i]! - 48;
    if (c >= 0 && c <= 9) {
      m = m * 10 + c;
      nd++;
      if (frac >= 0) frac++;
    } else if (c === -2 && frac < 0) frac = 0;
    else return NaN;
  }
  if (nd === 0 || nd > 15) return NaN;
  const v = frac > 0 ? m / POW10[frac]! : m;
  return neg ? -v : v;
}

function intAt(b: Uint8Array, s: number, e: number): number {
  let i = s, neg = false;
  if (b[i] === 45) (neg = true), i++;
  else if (b[i] === 43) i++;
  if (i === e || e - i > 10) return NaN;
  const v = digits(b, i, e - i);
  return v <= 2147483647 ? (neg ? -v : v) : NaN;
}

const FAST = { TIMESTAMP: 1, DATE: 2, FLOAT: 3, DOUBLE: 3, INT: 4, SYMBOL: 5 } as Partial<Record<ColType, number>>;

/** One column of the block being built. */
class Acc {
  readonly fast: number;
  nums: NumArray | undefined;
  codes: Uint32Array | undefined;
  readonly dict: string[] = [];
  private readonly byKey = new Map<number, number>();
  private readonly byText = new Map<string, number>();
  private lastKey = -1;
  private lastCode = 0;
  readonly strs: string[] = [];
  readonly nullValue: number | bigint | undefined;

  constructor(
    readonly col: ColumnDef,
    cap: number,
  ) {
    this.fast = FAST[col.type] ?? 0;
    this.nullValue = col.type === 'SYMBOL' || col.type === 'STRING' ? undefined : NULL_VALUE[col.type];
    if (col.type === 'SYMBOL') this.codes = new Uint32Array(cap);
    else if (col.type !== 'STRING') this.nums = allocNumeric(col.type, cap);
  }

  grow(cap: number): void {
    if (this.codes) {
      const c = new Uint32Array(cap);
      c.set(this.codes);
      this.codes = c;
    }
    if (this.nums) {
      const n = allocNumeric(this.col.type, cap);
      (n as Float64Array).set(this.nums as Float64Array);
      this.nums = n;
    }
  }

  /** The dictionary code of the SYMBOL cell b[s, e). */
  code(b: Buffer, s: number, e: number): number {
    const len = e - s;
    if (len > 6) return this.codeOfText(b.toString('utf8', s, e));
    let key = len;
    for (let i = s; i < e; i++) key = key * 256 + b[i]!;
    if (key === this.lastKey) return this.lastCode;
    let c = this.byKey.get(key);
    if (c === undefined) this.byKey.set(key, (c = this.codeOfText(b.toString('utf8', s, e))));
    this.lastKey = key;
    this.lastCode = c;
    return c;
  }

  private codeOfText(t: string): number {
    let c = this.byText.get(t);
    if (c === undefined) this.byText.set(t, (c = this.dict.push(t) - 1));
    return c;
  }

  vector(n: number): Vector {
    if (this.codes) return { kind: 'sym', dict: this.dict, codes: this.codes.slice(0, n) };
    if (!this.nums) return { kind: 'str', values: this.strs };
    return { kind: 'num', type: this.col.type, values: this.nums.slice(0, n) };
  }
}

export interface Block {
  rows: number;
  cols: Record<string, Vector>;
  /** The line (1 = the piece's first) of each row. */
  rowLines: Uint32Array;
}

/** One cell into column a at row r; false when it is not a value of the column's type. */
function cell(a: Acc, b: Buffer, s: number, e: number, r: number, isNull: boolean): boolean {
  if (a.codes) {
    a.codes[r] = isNull ? a.code(b, s, s) : a.code(b, s, e);
    return true;
  }
  if (!a.nums) {
    a.strs.push(isNull ? '' : b.toString('utf8', s, e));
    return true;
  }
  let v: number | bigint | string | undefined = isNull ? a.nullValue : a.fast === 1 ? timestampAt(b, s, e) : a.fast === 2 ? (e - s === 10 ? dateAt(b, s) : NaN) : a.fast === 3 ? decimalAt(b, s, e) : a.fast === 4 ? intAt(b, s, e) : NaN;
  if (v !== v) v = parseValue(a.col.type, b.toString('utf8', s, e));
  if (v === undefined) return false;
  (a.nums as Float64Array)[r] = v as number;
  return true;
}

/**
 * Parses a piece of whole lines with no quote and no CR. `map[j]` is the field of table column j.
 * Returns undefined when the record parser must look at the piece (see the file comment).
 */
export function parseFast(bytes: Uint8Array, schema: ColumnDef[], map: number[], delimiter: string, nullString: string): Block | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = delimiter.charCodeAt(0);
  if (d > 127 || b.indexOf(34) >= 0 || b.indexOf(13) >= 0) return undefined;
  const nul = Buffer.from(nullString, 'utf8');
  const nf = map.length;
  const accOfField: Acc[] = new Array(nf);
  let cap = Math.max(16, Math.ceil(b.length / 24));
  const accs = schema.map((c, j) => (accOfField[map[j]!] = new Acc(c, cap)));
  let rowLines = new Uint32Array(cap);
  let rows = 0, line = 0, pos = 0;
  const n = b.length;
  while (pos < n) {
    let end = b.indexOf(10, pos);
    if (end < 0) end = n;
    line++;
    if (end === pos) {
      pos = end + 1;
      continue;
    }
    if (rows === cap) {
      cap *= 2;
      for (const a of accs) a.grow(cap);
      const l = new Uint32Array(cap);
      l.set(rowLines);
      rowLines = l;
    }
    let s = pos;
    for (let f = 0; f < nf; f++) {
      let e = s;
      while (e < end && b[e] !== d) e++;
      if (f < nf - 1 ? e === end : e !== end) return undefined;
      const isNull = e - s === nul.length && (nul.length === 0 || b.compare(nul, 0, nul.length, s, e) === 0);
      if (!cell(accOfField[f]!, b, s, e, rows, isNull)) return undefined;
      s = e + 1;
    }
    rowLines[rows++] = line;
    pos = end + 1;
  }
  const cols: Record<string, Vector> = {};
  for (const a of accs) cols[a.col.name] = a.vector(rows);
  return { rows, cols, rowLines: rowLines.slice(0, rows) };
}
