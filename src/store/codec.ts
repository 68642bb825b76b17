import { corrupt } from '../common/errors.js';
import { allocNumeric, TYPES, type ColType, type NumArray, type Vector } from './types.js';

/** Narrowest code width that can index a dictionary of n entries. */
export const codeWidthFor = (n: number) => (n <= 0xff ? 1 : n <= 0xffff ? 2 : 4);

export function encodeCodes(codes: Uint32Array, width: number): Uint8Array {
  const out = width === 1 ? Uint8Array.from(codes) : width === 2 ? Uint16Array.from(codes) : codes;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** b itself when typed arrays of `align`-byte elements can view it, else an aligned copy (no copy of a whole column that is aligned already). */
function aligned(b: Buffer, align: number): Buffer {
  return b.byteOffset % align === 0 ? b : Buffer.from(b);
}

export function decodeCodes(buf: Buffer, width: number, rows: number): Uint32Array {
  const copy = aligned(buf.subarray(0, rows * width), width);
  const src = width === 1 ? new Uint8Array(copy.buffer, copy.byteOffset, rows) : width === 2 ? new Uint16Array(copy.buffer, copy.byteOffset, rows) : new Uint32Array(copy.buffer, copy.byteOffset, rows);
  return Uint32Array.from(src);
}

/** TIMESTAMP is a Float64Array in memory and int64 on disk; split into 32-bit halves to avoid BigInt. */
export function encodeNumeric(type: ColType, values: NumArray): Uint8Array {
  if (type === 'TIMESTAMP') {
    const out = new Int32Array(values.length * 2);
    const v = values as Float64Array;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      const hi = Math.floor(x / 4294967296);
      out[2 * i] = (x - hi * 4294967296) | 0;
      out[2 * i + 1] = hi;
    }
    return new Uint8Array(out.buffer);
  }
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function decodeNumeric(type: ColType, buf: Buffer, rows: number): NumArray {
  const width = TYPES[type].width;
  if (buf.length < rows * width) throw corrupt(`column block too short for ${rows} ${type} values`);
  const copy = aligned(buf.subarray(0, rows * width), type === 'TIMESTAMP' ? 4 : width);
  if (type === 'TIMESTAMP') {
    const halves = new Int32Array(copy.buffer, copy.byteOffset, rows * 2);
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) out[i] = halves[2 * i + 1]! * 4294967296 + (halves[2 * i]! >>> 0);
    return out;
  }
  const out = allocNumeric(type, rows);
  new Uint8Array(out.buffer).set(copy);
  return out;
}

export function encodeStrings(values: string[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const s of values) {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }
  return [Buffer.concat(parts)];
}

export function decodeStrings(buf: Buffer, count: number): { values: string[]; end: number } {
  const values: string[] = [];
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + 4 > buf.length) throw corrupt('string block truncated');
    const len = buf.readUInt32LE(off);
    off += 4;
    if (off + len > buf.length) throw corrupt('string block truncated');
    values.push(buf.toString('utf8', off, off + len));
    off += len;
  }
  return { values, end: off };
}

/** Concatenates vectors of one column (used when appending to an OLAP partition). */
export function concatVectors(type: ColType, parts: Vector[]): Vector {
  if (type === 'SYMBOL') {
    const dict: string[] = [];
    const index = new Map<string, number>();
    const total = parts.reduce((a, p) => a + (p.kind === 'sym' ? p.codes.length : 0), 0);
    const codes = new Uint32Array(total);
    let o = 0;
    for (const p of parts) {
      if (p.kind !== 'sym') continue;
      const remap = p.dict.map((s) => {
        let c = index.get(s);
        if (c === undefined) index.set(s, (c = dict.push(s) - 1));
        return c;
      });
      for (let i = 0; i < p.codes.length; i++) codes[o++] = remap[p.codes[i]!]!;
    }
    return { kind: 'sym', dict, codes };
  }
  if (type === 'STRING') return { kind: 'str', values: parts.flatMap((p) => (p.kind === 'str' ? p.values : [])) };
  const total = parts.reduce((a, p) => a + (p.kind === 'num' ? p.values.length : 0), 0);
  const out = allocNumeric(type, total);
  let o = 0;
  for (const p of parts) {
    if (p.kind !== 'num') continue;
    (out as Float64Array).set(p.values as Float64Array, o);
    o += p.values.length;
  }
  return { kind: 'num', type, values: out };
}

/** Selects rows by index (routing splits a batch into per-partition batches). */
export function takeRows(v: Vector, idx: Uint32Array): Vector {
  if (v.kind === 'sym') {
    const codes = new Uint32Array(idx.length);
    for (let i = 0; i < idx.length; i++) codes[i] = v.codes[idx[i]!]!;
    return { kind: 'sym', dict: v.dict, codes };
  }
  if (v.kind === 'str') return { kind: 'str', values: Array.from(idx, (i) => v.values[i]!) };
  const out = allocNumeric(v.type, idx.length);
  for (let i = 0; i < idx.length; i++) (out as Float64Array)[i] = (v.values as Float64Array)[idx[i]!]!;
  return { kind: 'num', type: v.type, values: out };
}
