import fs from 'node:fs';
import path from 'node:path';
import { corrupt } from '../common/errors.js';
import { codeWidthFor, concatVectors, decodeCodes, decodeNumeric, decodeStrings, encodeCodes, encodeNumeric, encodeStrings, takeRows } from './codec.js';
import { readFramed, writeFramed } from './framed-file.js';
import { TYPES, typeById, vectorLength, type ColumnDef, type Columns, type Vector } from './types.js';

/**
 * TSDB: sorted level files `<level>_<8 digits>` holding every column of a batch of rows, plus
 * `chunk.dict`, the dictionary that every SYMBOL column of the table in this chunk indexes into.
 * The dictionary only grows, so an append writes a new level-0 file and a longer dictionary while
 * the older level files stay valid and are hard-linked into the new version.
 */
export const DICT_FILE = 'chunk.dict';
export const levelFileName = (level: number, seq: number) => `${level}_${String(seq).padStart(8, '0')}`;
export const LEVEL_RE = /^(\d)_(\d{8})$/;

export function readDict(dir: string): string[] {
  const file = path.join(dir, DICT_FILE);
  if (!fs.existsSync(file)) return [];
  const { head, payload } = readFramed(file, 'CVDICT');
  return decodeStrings(payload, head.count).values;
}

/** `sync` false: no fdatasync (a stage committed with commitStages, which syncs a group at once). */
export function writeDict(dir: string, dict: string[], sync = true): number {
  return writeFramed(path.join(dir, DICT_FILE), { magic: 'CVDICT', typeId: 0, codeWidth: 0, count: dict.length, rows: 0 }, encodeStrings(dict), sync);
}

export function listLevelFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => LEVEL_RE.test(f)).sort();
}

export function nameBlock(name: string, typeId: number, codeWidth: number, bytes: number): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(2 + n.length + 2 + 8);
  b.writeUInt16LE(n.length, 0);
  n.copy(b, 2);
  b.writeUInt8(typeId, 2 + n.length);
  b.writeUInt8(codeWidth, 3 + n.length);
  b.writeBigUInt64LE(BigInt(bytes), 4 + n.length);
  return b;
}

/** Writes one level file; SYMBOL columns are re-coded against the (already extended) chunk dictionary. */
export function writeLevelFile(file: string, schema: ColumnDef[], cols: Columns, rows: number, dictIndex: Map<string, number>): number {
  const payload: Uint8Array[] = [];
  for (const c of schema) {
    const v = cols[c.name]!;
    let body: Uint8Array[];
    let width = 0;
    if (v.kind === 'sym') {
      const remap = v.dict.map((s) => dictIndex.get(s)!);
      const codes = new Uint32Array(v.codes.length);
      for (let i = 0; i < codes.length; i++) codes[i] = remap[v.codes[i]!]!;
      width = codeWidthFor(dictIndex.size);
      body = [encodeCodes(codes, width)];
    } else body = v.kind === 'str' ? encodeStrings(v.values) : [encodeNumeric(c.type, v.values)];
    payload.push(nameBlock(c.name, TYPES[c.type].id, width, body.reduce((a, b) => a + b.byteLength, 0)), ...body);
  }
  return writeFramed(file, { magic: 'CVLVL', typeId: 0, codeWidth: 0, count: schema.length, rows }, payload);
}

export function readLevelFile(file: string, schema: ColumnDef[], dict: string[]): Columns {
  const { head, payload } = readFramed(file, 'CVLVL');
  const out: Columns = {};
  let off = 0;
  for (let i = 0; i < head.count; i++) {
    const nlen = payload.readUInt16LE(off);
    const name = payload.toString('utf8', off + 2, off + 2 + nlen);
    const typeId = payload.readUInt8(off + 2 + nlen);
    const width = payload.readUInt8(off + 3 + nlen);
    const bytes = Number(payload.readBigUInt64LE(off + 4 + nlen));
    off += 12 + nlen;
    const block = payload.subarray(off, off + bytes);
    off += bytes;
    const col = schema.find((c) => c.name === name);
    if (!col || typeById(typeId) !== col.type) throw corrupt(`${file}: column ${name} does not match the schema`);
    if (col.type === 'SYMBOL') out[name] = { kind: 'sym', dict, codes: decodeCodes(block, width, head.rows) };
    else if (col.type === 'STRING') out[name] = { kind: 'str', values: decodeStrings(block, head.rows).values };
    else out[name] = { kind: 'num', type: col.type, values: decodeNumeric(col.type, block, head.rows) };
  }
  for (const c of schema) if (!out[c.name]) throw corrupt(`${file}: column ${c.name} is missing`);
  return out;
}

/** Reads all level files of a version in order and returns rows sorted by the sort columns. */
export function readTsdbFiles(dir: string, schema: ColumnDef[], sortColumns: string[]): Columns {
  const dict = readDict(dir);
  const levels = listLevelFiles(dir).map((f) => readLevelFile(path.join(dir, f), schema, dict));
  const out: Columns = {};
  for (const c of schema) out[c.name] = concatVectors(c.type, levels.map((l) => l[c.name]!));
  return levels.length > 1 ? sortColumnsBy(schema, out, sortColumns) : out;
}

/** Each dictionary code's rank among the dictionary's strings in sort order. */
export function dictRanks(dict: string[]): Uint32Array {
  const rank = new Uint32Array(dict.length);
  dict.map((s, i) => [s, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).forEach(([, i], r) => (rank[i] = r));
  return rank;
}

/** Sort keys as numbers: SYMBOL codes are replaced by the rank of their string, so compares are numeric. */
function sortKey(v: Vector): ArrayLike<number | bigint | string> {
  if (v.kind === 'num') return v.values;
  if (v.kind === 'str') return v.values;
  const rank = dictRanks(v.dict);
  const out = new Uint32Array(v.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = rank[v.codes[i]!]!;
  return out;
}

/** Stable sort by the sort columns; skips the work when rows already arrive sorted (the common case). */
export function sortColumnsBy(schema: ColumnDef[], cols: Columns, sortColumns: string[]): Columns {
  const keys = sortColumns.map((k) => sortKey(cols[k]!));
  const n = schema.length ? vectorLength(cols[schema[0]!.name]!) : 0;
  const cmp = (a: number, b: number) => {
    for (const k of keys) {
      const x = k[a]!, y = k[b]!;
      if (x !== y) return x < y ? -1 : 1;
    }
    return a - b;
  };
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false;
  if (sorted) return cols;
  const idx = Uint32Array.from(Array.from({ length: n }, (_, i) => i).sort(cmp));
  const out: Columns = {};
  for (const c of schema) out[c.name] = takeRows(cols[c.name]!, idx);
  return out;
}
