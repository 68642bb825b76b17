import fs from 'node:fs';
import { fromSystemError, usage } from '../common/errors.js';
import { parseType, validateScheme, type ColumnDef, type Engine, type Scheme, type TableSpec } from '../store/index.js';
import { parseScheme } from './scheme-parse.js';

/** `--columns time:TIMESTAMP,symbol:SYMBOL,price:DOUBLE` → column definitions. */
export function parseColumns(spec: string): ColumnDef[] {
  return splitList(spec).map((item) => {
    const m = /^([^:\s]+)\s*:\s*([A-Za-z]+)$/.exec(item);
    if (!m) throw usage(`bad column "${item}": expected name:TYPE, e.g. time:TIMESTAMP`);
    return { name: m[1]!, type: parseType(m[2]!) };
  });
}

export function splitList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

export function parseEngine(e: string | undefined): Engine {
  const u = (e ?? 'OLAP').toUpperCase();
  if (u !== 'OLAP' && u !== 'TSDB') throw usage(`bad engine "${e}": expected OLAP or TSDB`);
  return u;
}

export interface DatabaseSpec {
  engine: Engine;
  scheme: Scheme;
  tables: TableSpec[];
}

type Json = Record<string, unknown>;

/**
 * A `--schema` file (JSON) describing a database and its tables:
 *   { "engine": "TSDB", "partition": "COMPO(HASH(SYMBOL,5), VALUE(DATE:2012.01.01))",
 *     "tables": [ { "name": "quotes", "columns": "time:TIMESTAMP,symbol:SYMBOL",
 *                   "partitionColumns": "symbol,time", "sortColumns": "symbol,time" } ] }
 * `partition` may also be the stored scheme object; `columns` a list of {name, type}.
 */
export function readSchemaFile(file: string): DatabaseSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw fromSystemError(err, `cannot read ${file}`);
  }
  if (/\.toml$/i.test(file)) throw usage(`${file}: TOML schema files are not supported; write the schema as JSON`);
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (err) {
    throw usage(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!doc || typeof doc !== 'object') throw usage(`${file}: expected a JSON object`);
  const part = doc['partition'] ?? doc['scheme'];
  let scheme: Scheme;
  if (typeof part === 'string') scheme = parseScheme(part);
  else if (part && typeof part === 'object') {
    scheme = part as Scheme;
    validateScheme(scheme);
  } else throw usage(`${file}: "partition" is missing (a scheme string such as "VALUE(DATE:2012.01.01..2012.01.31)")`);
  const tables = Array.isArray(doc['tables']) ? (doc['tables'] as Json[]).map((t, i) => tableSpecOf(t, `${file}: tables[${i}]`)) : [];
  return { engine: parseEngine(doc['engine'] as string | undefined), scheme, tables };
}

const listOf = (v: unknown): string[] | undefined => (typeof v === 'string' ? splitList(v) : Array.isArray(v) ? v.map(String) : undefined);

function tableSpecOf(t: Json, where: string): TableSpec {
  if (typeof t['name'] !== 'string') throw usage(`${where}: "name" is missing`);
  const cols = t['columns'];
  const schema = typeof cols === 'string' ? parseColumns(cols) : Array.isArray(cols) ? (cols as Json[]).map((c) => ({ name: String(c['name']), type: parseType(String(c['type'])) })) : undefined;
  if (!schema) throw usage(`${where}: "columns" is missing`);
  const partitionColumns = listOf(t['partitionColumns']);
  if (!partitionColumns) throw usage(`${where}: "partitionColumns" is missing`);
  const sortColumns = listOf(t['sortColumns']);
  return { name: t['name'], schema, partitionColumns, ...(sortColumns ? { sortColumns } : {}) };
}
