import { NULL_VALUE, type ColumnDef, type Vector } from '../store/index.js';
import { formatFloat32, writeFloat32, writeUint as uint } from './float32.js';
import { formatValue } from './values.js';

/**
 * CSV rows written straight into a byte buffer: the fast path of `export`. Dates come from a
 * day → bytes table filled once per distinct day, times and integers from integer math, FLOAT from
 * float32.ts (the shortest decimal that reads back as the same float32, shared with formatValue),
 * SYMBOL cells from their dictionary entries encoded (and quoted) once per partition. Every cell
 * reads back as the value `formatValue` (the reference, and the fallback for anything else) gives.
 */

const MS_PER_DAY = 86_400_000;

export function csvCell(s: string, delim: string): string {
  return s.includes(delim) || s.includes('"') || s.includes('\n') || s.includes('\r') ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The output: a buffer handed on when full. */
export class ByteSink {
  buf: Buffer;
  pos = 0;
  constructor(
    size: number,
    private readonly flushTo: (b: Buffer) => void | Promise<void>,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }
  /** Hands on what is written when fewer than n bytes are free (and grows for a cell larger than the buffer). */
  async room(n: number): Promise<void> {
    if (this.pos + n <= this.buf.length) return;
    await this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }
  async flush(): Promise<void> {
    if (!this.pos) return;
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    await this.flushTo(out);
  }
}

const dayBytes = new Map<number, Buffer>();
function dateBytes(d: number): Buffer {
  let s = dayBytes.get(d);
  if (!s) {
    if (dayBytes.size > 100_000) dayBytes.clear();
    dayBytes.set(d, (s = Buffer.from(formatValue('DATE', d), 'latin1')));
  }
  return s;
}

function date(b: Buffer, p: number, d: number): number {
  const s = dateBytes(d);
  for (let i = 0; i < s.length; i++) b[p + i] = s[i]!;
  return p + s.length;
}

/** HH:mm:ss.mmm of ms in 0..86,399,999. */
function time(b: Buffer, p: number, ms: number): number {
  const sec = (ms / 1000) | 0, frac = ms - sec * 1000;
  const h = (sec / 3600) | 0, mi = ((sec / 60) | 0) % 60, s = sec % 60;
  if (h > 99) return p + b.write(formatValue('TIME', ms), p, 'latin1');
  b[p] = 48 + ((h / 10) | 0);
  b[p + 1] = 48 + (h % 10);
  b[p + 2] = 58;
  b[p + 3] = 48 + ((mi / 10) | 0);
  b[p + 4] = 48 + (mi % 10);
  b[p + 5] = 58;
  b[p + 6] = 48 + ((s / 10) | 0);
  b[p + 7] = 48 + (s % 10);
  b[p + 8] = 46;
  b[p + 9] = 48 + ((frac / 100) | 0);
  b[p + 10] = 48 + (((frac / 10) | 0) % 10);
  b[p + 11] = 48 + (frac % 10);
  return p + 12;
}

/** One column of a partition, ready to write: its widest cell and a writer of row i at p. */
export interface CellWriter {
  width: number;
  write(b: Buffer, p: number, i: number): number;
}

function textWriter(cells: Buffer[]): (b: Buffer, p: number, code: number) => number {
  return (b, p, code) => {
    const s = cells[code]!;
    if (s.length < 16) for (let k = 0; k < s.length; k++) b[p + k] = s[k]!;
    else s.copy(b, p);
    return p + s.length;
  };
}

export function cellWriter(col: ColumnDef, v: Vector, delim: string): CellWriter {
  if (v.kind === 'sym') {
    const cells = v.dict.map((s) => Buffer.from(csvCell(s, delim), 'utf8'));
    const put = textWriter(cells);
    return { width: cells.reduce((a, c) => Math.max(a, c.length), 0), write: (b, p, i) => put(b, p, v.codes[i]!) };
  }
  if (v.kind === 'str') {
    const cells = v.values.map((s) => Buffer.from(csvCell(s, delim), 'utf8'));
    const put = textWriter(cells);
    return { width: cells.reduce((a, c) => Math.max(a, c.length), 0), write: (b, p, i) => put(b, p, i) };
  }
  const vals = v.values;
  const t = col.type;
  const slow = (b: Buffer, p: number, i: number) => p + b.write(csvCell(formatValue(t, vals[i]!), delim), p, 'utf8');
  const nul = NULL_VALUE[t as 'INT'];
  const fast = (write: (b: Buffer, p: number, x: number) => number): CellWriter['write'] => (b, p, i) => {
    const x = vals[i] as number;
    return x === nul ? p : write(b, p, x);
  };
  // The day's bytes of the last row: rows of a partition mostly share their day (no map look-up).
  let lastDay = NaN;
  let lastDate: Buffer = Buffer.alloc(0);
  if (t === 'TIMESTAMP')
    return { width: 40, write: fast((b, p, x) => {
      const d = Math.floor(x / MS_PER_DAY);
      if (d < -719_162 || d > 2_932_896) return p + b.write(formatValue(t, x), p, 'latin1');
      if (d !== lastDay) lastDate = dateBytes((lastDay = d));
      for (let k = 0; k < lastDate.length; k++) b[p + k] = lastDate[k]!;
      p += lastDate.length;
      b[p++] = 84;
      return time(b, p, x - d * MS_PER_DAY);
    }) };
  if (t === 'DATE') return { width: 24, write: fast((b, p, x) => (x >= -719_162 && x <= 2_932_896 ? date(b, p, x) : p + b.write(formatValue(t, x), p, 'latin1'))) };
  if (t === 'TIME') return { width: 16, write: fast((b, p, x) => time(b, p, x)) };
  if (t === 'INT') return { width: 12, write: fast((b, p, x) => (x < 0 ? ((b[p] = 45), uint(b, p + 1, -x)) : uint(b, p, x))) };
  const hint = { k: 0 };
  if (t === 'FLOAT') return { width: 48, write: fast((b, p, x) => { const e = writeFloat32(b, p, x, hint); return e >= 0 ? e : p + b.write(formatFloat32(x), p, 'latin1'); }) };
  return { width: 48, write: slow };
}

/** The writers of a row's cells and the widest row they can write. */
export interface RowWriter {
  writers: CellWriter[];
  width: number;
  delim: string;
}

export function rowWriter(cols: ColumnDef[], vecs: Vector[], delim: string): RowWriter {
  const writers = cols.map((c, j) => cellWriter(c, vecs[j]!, delim));
  return { writers, width: writers.reduce((a, w) => a + w.width + 1, 1), delim };
}

/**
 * Writes rows from..to-1 as CSV lines into out.buf at out.pos while a widest row still fits;
 * returns the next row to write (to when all are written). The one row loop of the serial and
 * the parallel export.
 */
export function writeRows(out: { buf: Buffer; pos: number }, rw: RowWriter, from: number, to: number): number {
  const { writers, width, delim } = rw;
  const d = delim.charCodeAt(0) < 128 ? delim.charCodeAt(0) : -1;
  const last = writers.length - 1;
  const b = out.buf;
  let p = out.pos;
  let i = from;
  for (; i < to && p + width <= b.length; i++) {
    for (let j = 0; j <= last; j++) {
      p = writers[j]!.write(b, p, i);
      if (j < last) p = d >= 0 ? ((b[p] = d), p + 1) : p + b.write(delim, p, 'utf8');
    }
    b[p++] = 10;
  }
  out.pos = p;
  return i;
}
