import fs from 'node:fs';
import path from 'node:path';
import { usage } from '../common/errors.js';
import { linkPath } from '../common/fsio.js';
import { Cluster, loadDatabase, saveDatabase, tableOf, type Engine, type FileEntry, type TableDef } from './catalog.js';
import { commitStageLocked, stageVersion } from './commit.js';
import { concatVectors, takeRows } from './codec.js';
import { ensureChunksLocked } from './mvcc.js';
import { readOlapFiles, writeOlapFiles } from './olap-format.js';
import { extendValueLevels, routeRows } from './scheme.js';
import { DICT_FILE, levelFileName, listLevelFiles, readDict, sortColumnsBy, writeDict, writeLevelFile } from './tsdb-format.js';
import { vectorFrom, vectorLength, type Columns, type Vector } from './types.js';

/** Checks a batch against the schema and converts plain arrays to vectors. Returns the row count. */
export function normalizeBatch(t: TableDef, input: Record<string, Vector | unknown[]>): { cols: Columns; rows: number } {
  const cols: Columns = {};
  for (const k of Object.keys(input))
    if (!t.schema.some((c) => c.name === k)) throw usage(`type mismatch: table ${t.name} has no column ${k}`);
  let rows = -1;
  for (const col of t.schema) {
    const raw = input[col.name];
    if (raw === undefined) throw usage(`type mismatch: column ${col.name} is missing from the appended data`);
    const v = Array.isArray(raw) ? vectorFrom(col, raw) : raw;
    const ok = col.type === 'SYMBOL' ? v.kind === 'sym' : col.type === 'STRING' ? v.kind === 'str' : v.kind === 'num' && v.type === col.type;
    if (!ok) throw usage(`type mismatch: column ${col.name} is ${col.type}`);
    const n = vectorLength(v);
    if (rows >= 0 && n !== rows) throw usage(`column ${col.name} has ${n} rows, others have ${rows}`);
    rows = n;
    cols[col.name] = v;
  }
  return { cols, rows: Math.max(rows, 0) };
}

/**
 * Writes one table version's files into dir. With a base version, OLAP rewrites every column with
 * the old rows followed by the new; TSDB hard-links the old level files, writes a longer dictionary
 * and one new level file with the new rows sorted by the sort columns.
 */
export function writeTableFiles(dir: string, engine: Engine, t: TableDef, cols: Columns, rows: number, base?: { dir: string; rows: number }): { rows: number; files: FileEntry[] } {
  if (engine === 'OLAP') {
    let all = cols;
    if (base) {
      const old = readOlapFiles(base.dir, t.schema);
      all = Object.fromEntries(t.schema.map((c) => [c.name, concatVectors(c.type, [old[c.name]!, cols[c.name]!])]));
    }
    const total = rows + (base?.rows ?? 0);
    return { rows: total, files: writeOlapFiles(dir, t.schema, all, total) };
  }
  const symbols = () => Object.values(cols).flatMap((v) => (v.kind === 'sym' ? v.dict : []));
  return writeTsdbVersion(dir, t, [{ rows, symbols, load: () => cols }], base);
}

/** New rows of a TSDB version in segments, each loaded only when its level file is written. */
export interface TsdbSegment {
  rows: number;
  /** Every SYMBOL string the segment holds (or more): the chunk dictionary is written before any level. */
  symbols(): string[];
  load(): Columns;
}

/**
 * A TSDB version: the base version's level files hard-linked, a dictionary holding every segment's
 * symbols, then one level file per segment, sorted, so memory is one segment (a load's spill). A
 * read merges the levels on the sort columns, ties to the earlier level, which is the order one
 * level of all the new rows sorted stably would give: same rows, same order, same digest.
 */
export function writeTsdbVersion(dir: string, t: TableDef, segments: TsdbSegment[], base?: { dir: string; rows: number }): { rows: number; files: FileEntry[] } {
  const files: FileEntry[] = [];
  let seq = 1;
  const dict = base ? readDict(base.dir) : [];
  if (base)
    for (const f of listLevelFiles(base.dir)) {
      linkPath(path.join(base.dir, f), path.join(dir, f));
      files.push({ name: f, size: fs.statSync(path.join(dir, f)).size });
      seq = Math.max(seq, Number(f.slice(2)) + 1);
    }
  const index = new Map(dict.map((s, i) => [s, i]));
  for (const s of segments) for (const x of s.symbols()) if (!index.has(x)) index.set(x, dict.push(x) - 1);
  files.push({ name: DICT_FILE, size: writeDict(dir, dict) });
  let rows = base?.rows ?? 0;
  for (const s of segments) {
    if (s.rows === 0 && segments.length > 1) continue;
    const lvl = levelFileName(0, seq++);
    const sorted = sortColumnsBy(t.schema, s.load(), t.sortColumns ?? []);
    files.push({ name: lvl, size: writeLevelFile(path.join(dir, lvl), t.schema, sorted, s.rows, index) });
    rows += s.rows;
  }
  files.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { rows, files };
}

/** Appends rows: routes them to partitions (adding new VALUE partitions) and commits one version per partition. */
export function append(c: Cluster, dbPath: string, table: string, input: Record<string, Vector | unknown[]>): { rows: number; partitions: string[] } {
  return c.withDbLock(dbPath, () => {
    const def = loadDatabase(c, dbPath);
    const t = tableOf(def, table);
    const { cols, rows } = normalizeBatch(t, input);
    if (rows === 0) return { rows: 0, partitions: [] };
    const keyCols = t.partitionColumns.map((name) => ({ type: t.schema.find((s) => s.name === name)!.type, vec: cols[name]! }));
    const { paths, rowPath, newValues } = routeRows(def.scheme, keyCols);
    if (extendValueLevels(def.scheme, newValues)) saveDatabase(c, def);
    const chunks = ensureChunksLocked(c, dbPath, paths.map((path) => ({ path })));
    for (let p = 0; p < paths.length; p++) {
      let part = cols;
      let n = rows;
      if (paths.length > 1) {
        const idx = new Uint32Array(rowPath.filter((x) => x === p).length);
        let j = 0;
        for (let i = 0; i < rowPath.length; i++) if (rowPath[i] === p) idx[j++] = i;
        part = Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, takeRows(v, idx)]));
        n = idx.length;
      }
      const chunk = chunks.get(paths[p]!)!;
      const cur = chunk.tables[table];
      const stage = stageVersion(c, dbPath, chunk, table);
      try {
        const base = cur ? { dir: path.join(c.chunkDir(chunk, dbPath), cur.version), rows: cur.rows } : undefined;
        commitStageLocked(stage, writeTableFiles(stage.dir, def.engine, t, part, n, base));
      } catch (err) {
        stage.abort();
        throw err;
      }
    }
    return { rows, partitions: paths };
  });
}
