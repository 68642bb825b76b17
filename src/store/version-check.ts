import { HEADER_BYTES, parseHeader } from './framed-file.js';
import { DICT_FILE, LEVEL_RE } from './tsdb-format.js';
import { TYPES, type ColumnDef } from './types.js';
import type { Engine } from './catalog.js';

/** One file of a table version as a copy or a check saw it: its name, length and first 64 bytes. */
export interface FileHead {
  name: string;
  size: number;
  head: Uint8Array;
}

/**
 * Why these files cannot be one version of a table with this schema holding `rows` rows, or
 * undefined when they can. It ties a description (a backup's manifest) to the data it describes
 * from the framed headers alone: the file set the engine writes, each header's kind, type, row
 * count and length. A manifest whose checksum was recomputed after an edit still fails here.
 */
export function versionProblem(engine: Engine, schema: ColumnDef[], rows: number, files: FileHead[]): string | undefined {
  const heads = new Map<string, ReturnType<typeof parseHeader>>();
  for (const f of files) {
    const h = parseHeader(f.head);
    if (typeof h === 'string') return `${f.name}: ${h}`;
    if (HEADER_BYTES + h.payloadBytes !== f.size) return `${f.name}: ${f.size} bytes, its header says ${HEADER_BYTES + h.payloadBytes}`;
    heads.set(f.name, h);
  }
  return engine === 'OLAP' ? olapProblem(schema, rows, heads) : tsdbProblem(schema, rows, heads);
}

function olapProblem(schema: ColumnDef[], rows: number, heads: Map<string, ReturnType<typeof parseHeader>>): string | undefined {
  const want = new Set(schema.map((c) => `${c.name}.col`));
  for (const name of heads.keys()) if (!want.has(name)) return `${name} is not a column file of this schema`;
  for (const c of schema) {
    const h = heads.get(`${c.name}.col`);
    if (h === undefined) return `column ${c.name} has no file`;
    if (typeof h === 'string' || h.magic !== 'CVCOL') return `${c.name}.col is not a column file`;
    if (h.typeId !== TYPES[c.type].id) return `${c.name}.col holds type id ${h.typeId}, the schema says ${c.type} (${TYPES[c.type].id})`;
    if (h.rows !== rows) return `${c.name}.col holds ${h.rows} rows, the description says ${rows}`;
  }
  return undefined;
}

function tsdbProblem(schema: ColumnDef[], rows: number, heads: Map<string, ReturnType<typeof parseHeader>>): string | undefined {
  let total = 0;
  for (const [name, h] of heads) {
    if (typeof h === 'string') return `${name}: ${h}`;
    if (name === DICT_FILE) {
      if (h.magic !== 'CVDICT') return `${name} is not a dictionary file`;
    } else if (!LEVEL_RE.test(name) || h.magic !== 'CVLVL') return `${name} is not a level file`;
    else if (h.count !== schema.length) return `${name} holds ${h.count} columns, the schema has ${schema.length}`;
    else total += h.rows;
  }
  if (total !== rows) return `the level files hold ${total} rows, the description says ${rows}`;
  return undefined;
}
