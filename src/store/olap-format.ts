import path from 'node:path';
import { corrupt } from '../common/errors.js';
import { codeWidthFor, decodeCodes, decodeNumeric, decodeStrings, encodeCodes, encodeNumeric, encodeStrings } from './codec.js';
import { readFramed, writeFramed } from './framed-file.js';
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
