import path from 'node:path';
import { corrupt } from '../common/errors.js';
import { codeWidthFor, concatVectors, decodeCodes, decodeNumeric, decodeStrings, encodeCodes, encodeNumeric, encodeStrings } from './codec.js';
import { readFramed, writeFramed, writeFramedPieces } from './framed-file.js';
import { TYPES, typeById, type ColumnDef, type Columns, type Vector } from './types.js';

/**
 * OLAP: one `<col>.col` framed file per column. SYMBOL columns carry their own dictionary
 * (header count = entries) followed by codes of the narrowest width.
 */
export function writeColumnFile(file: string, col: ColumnDef, v: Vector, rows: number, sync = true): number {
  const typeId = TYPES[col.type].id;
  if (v.kind === 'sym') {
    const w = codeWidthFor(v.dict.length);
    return writeFramed(file, { magic: 'CVCOL', typeId, codeWidth: w, count: v.dict.length, rows }, [...encodeStrings(v.dict), encodeCodes(v.codes, w)], sync);
  }
  const payload = v.kind === 'str' ? encodeStrings(v.values) : [encodeNumeric(col.type, v.values)];
  return writeFramed(file, { magic: 'CVCOL', typeId, codeWidth: 0, count: 0, rows }, payload, sync);
}

export function readColumnFile(file: string, col: ColumnDef): Vector {
  const { head, payload } = readFramed(file, 'CVCOL');
  if (typeById(head.typeId) !== col.type) throw corrupt(`${file}: holds type id ${head.typeId}, schema says ${col.type}`);
  if (col.type === 'SYMBOL') {
    const { values: dict, end } = decodeStrings(payload, head.count);
    return { kind: 'sym', dict, codes: decodeCodes(payload.subarray(end), head.codeWidth, head.rows) };
  }
  if (col.type === 'STRING') return { kind: 'str', values: decodeStrings(payload, head.rows).values };
  return { kind: 'num', type: col.type, values: decodeNumeric(col.type, payload, head.rows) };
}

/** `sync` false: scratch files (a load's spills), read back before the real files are written and synced. */
export function writeOlapFiles(dir: string, schema: ColumnDef[], cols: Columns, rows: number, sync = true): { name: string; size: number }[] {
  return schema.map((c) => ({ name: `${c.name}.col`, size: writeColumnFile(path.join(dir, `${c.name}.col`), c, cols[c.name]!, rows, sync) }));
}

export function readOlapFiles(dir: string, schema: ColumnDef[]): Columns {
  const out: Columns = {};
  for (const c of schema) out[c.name] = readColumnFile(path.join(dir, `${c.name}.col`), c);
  return out;
}

/**
 * The column file writeColumnFile writes for the concatenation of `segments` (each a function
 * that loads one segment's vector: read from a file, or in memory), holding one segment at a
 * time. SYMBOL reads each segment twice: once for the dictionary (merged as concatVectors does),
 * once for the codes. STRING concatenates in memory. `sync` false: a scratch file.
 */
export function writeColumnSegments(file: string, col: ColumnDef, segments: (() => Vector)[], rows: number, sync = true): number {
  const typeId = TYPES[col.type].id;
  if (col.type === 'STRING') return writeColumnFile(file, col, concatVectors(col.type, segments.map((s) => s())), rows, sync);
  if (col.type !== 'SYMBOL')
    return writeFramedPieces(file, { magic: 'CVCOL', typeId, codeWidth: 0, count: 0, rows }, (emit) => {
      for (const s of segments) {
        const v = s();
        if (v.kind === 'num') emit(encodeNumeric(col.type, v.values));
      }
    }, sync);
  const dict: string[] = [];
  const index = new Map<string, number>();
  for (const s of segments) {
    const v = s();
    if (v.kind === 'sym') for (const x of v.dict) if (!index.has(x)) index.set(x, dict.push(x) - 1);
  }
  const w = codeWidthFor(dict.length);
  return writeFramedPieces(file, { magic: 'CVCOL', typeId, codeWidth: w, count: dict.length, rows }, (emit) => {
    for (const p of encodeStrings(dict)) emit(p);
    for (const s of segments) {
      const v = s();
      if (v.kind !== 'sym') continue;
      const remap = Uint32Array.from(v.dict, (x) => index.get(x)!);
      const codes = new Uint32Array(v.codes.length);
      for (let i = 0; i < codes.length; i++) codes[i] = remap[v.codes[i]!]!;
      emit(encodeCodes(codes, w));
    }
  }, sync);
}
