import path from 'node:path';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { makeDir, makeDirs, removeEmptyDir, removeTree } from '../common/fsio.js';
import { dbNameOf, tableOf, type ChunkMeta, type Cluster, type DatabaseDef, type FileEntry, type TableDef } from './catalog.js';
import { concatVectors, takeRows } from './codec.js';
import { stageVersion, type Stage } from './commit.js';
import { pinDatabase, type Snapshot } from './mvcc.js';
import { commitPartsLocked, type StagedPart } from './multi-commit.js';
import { writeColumnFromSources, type ColumnSource } from './column-copy.js';
import { columnDict } from './column-ranges.js';
import { readOlapFiles } from './olap-format.js';
import { extendValueLevels, routeRows } from './scheme.js';
import { TYPES, type Columns, type Vector } from './types.js';
import { normalizeBatch, writeTsdbVersion, type TsdbSegment } from './writer.js';

/**
 * A load: rows added in batches, routed to partitions and staged there, then committed to every
 * partition at once (commitPartsLocked) or not at all. Memory stays flat: buffered rows are
 * spilled into the stages when they pass `bufferBytes`, so what is held at once is the buffer
 * plus, while a stage is finished, one partition.
 */
export interface BatchOptions {
  /** Estimated bytes of buffered rows before they are spilled to the stages (default 64 MB). */
  bufferBytes?: number;
}

export interface BatchResult {
  rows: number;
  partitions: string[];
}

interface Part {
  chunk: ChunkMeta;
  isNew: boolean;
  baseCid: number | undefined;
  stage: Stage;
  buffered: Columns[];
  bufferedRows: number;
  spills: { dir: string; rows: number }[];
  rows: number;
}

export class Batch {
  readonly def: DatabaseDef;
  private readonly t: TableDef;
  private readonly known: Map<string, ChunkMeta>;
  private readonly parts = new Map<string, Part>();
  private readonly newValues = new Map<number, Set<string | number>>();
  private readonly createdDirs: string[] = [];
  private chunkCount: number;
  private bufferedBytes = 0;
  private readonly rowBytes: number;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private readonly pin: Snapshot;

  constructor(
    private readonly c: Cluster,
    private readonly db: string,
    private readonly table: string,
    private readonly opts: BatchOptions = {},
  ) {
    // The pin keeps the base versions the stages are built on while other writers commit.
    this.pin = pinDatabase(c, db);
    const { def, chunks } = this.pin;
    this.def = def;
    try {
      this.t = tableOf(this.def, table);
    } catch (err) {
      this.pin.release();
      throw err;
    }
    this.known = new Map(chunks.map((k) => [k.path, k]));
    this.chunkCount = chunks.length;
    this.rowBytes = this.t.schema.reduce((a, col) => a + (TYPES[col.type].width || (col.type === 'SYMBOL' ? 8 : 32)), 0);
  }

  get schema(): TableDef {
    return this.t;
  }

  /** Checks and routes a batch of rows and stages them; a bad value throws and the caller aborts. */
  add(input: Record<string, Vector | unknown[]>): void {
    if (this.state !== 'open') throw new Error(`internal: a ${this.state} batch cannot take rows`);
    const { cols, rows } = normalizeBatch(this.t, input);
    if (rows === 0) return;
    const keyCols = this.t.partitionColumns.map((name) => ({ type: this.t.schema.find((s) => s.name === name)!.type, vec: cols[name]! }));
    const { paths, rowPath, newValues } = routeRows(this.def.scheme, keyCols);
    this.place(splitByPath(cols, rows, paths, rowPath), newValues);
  }

  /**
   * Stages rows a caller already routed with routeRows over this batch's scheme (a load's worker
   * threads do): `parts[i]` holds the rows of `paths[i]`. The scheme the caller routed with may
   * lack VALUE partitions other blocks added: it reports those values again in `newValues`.
   */
  addRouted(paths: string[], parts: Record<string, Vector>[], newValues: ReadonlyMap<number, Iterable<string | number>>): void {
    if (this.state !== 'open') throw new Error(`internal: a ${this.state} batch cannot take rows`);
    this.place(paths.map((p, i) => ({ path: p, ...normalizeBatch(this.t, parts[i]!) })), newValues);
  }

  private place(pieces: { path: string; cols: Columns; rows: number }[], newValues: ReadonlyMap<number, Iterable<string | number>>): void {
    extendValueLevels(this.def.scheme, newValues);
    for (const [li, vals] of newValues) for (const v of vals) (this.newValues.get(li) ?? this.newValues.set(li, new Set()).get(li)!).add(v);
    for (const { path: p, cols, rows } of pieces) {
      const part = this.part(p);
      part.buffered.push(cols);
      part.bufferedRows += rows;
      part.rows += rows;
      this.bufferedBytes += rows * this.rowBytes;
    }
    if (this.bufferedBytes > (this.opts.bufferBytes ?? 64_000_000)) this.spillAll();
  }

  /** Makes every staged row visible in one commit; returns the rows and the partitions written. */
  commit(): BatchResult {
    if (this.state !== 'open') throw new Error(`internal: a ${this.state} batch cannot be committed`);
    try {
      const staged: StagedPart[] = [...this.parts.values()].map((p) => this.finish(p));
      if (staged.length) this.c.withDbLock(this.db, () => commitPartsLocked(this.c, this.db, this.table, this.t.physIndex, staged, this.newValues));
      this.state = 'committed';
      this.pin.release();
      return { rows: [...this.parts.values()].reduce((a, p) => a + p.rows, 0), partitions: staged.map((p) => p.chunk.path) };
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Removes every stage and the chunk directories this batch made; the catalog never saw any of it. */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    for (const p of this.parts.values()) p.stage.abort();
    this.pin.release();
    const root = (dir: string) => path.join(dir.slice(0, dir.indexOf(`${path.sep}CHUNKS${path.sep}`)), 'CHUNKS', dbNameOf(this.db));
    for (const dir of this.createdDirs.reverse()) {
      for (let d = dir; d.length > root(dir).length && fs.existsSync(d) && fs.readdirSync(d).length === 0; d = path.dirname(d)) removeEmptyDir(d);
    }
  }

  private part(p: string): Part {
    let part = this.parts.get(p);
    if (part) return part;
    let chunk = this.known.get(p);
    const isNew = !chunk;
    if (!chunk) {
      const vol = this.c.volumes[this.chunkCount++ % this.c.volumes.length]!;
      chunk = { chunkId: randomUUID(), path: p, node: vol.node, volume: vol.path, tables: {} };
      const dir = this.c.chunkDir(chunk, this.db);
      if (!fs.existsSync(dir)) this.createdDirs.push(dir);
      makeDirs(dir);
    }
    part = { chunk, isNew, baseCid: chunk.tables[this.table]?.cid, stage: stageVersion(this.c, this.db, chunk, this.table), buffered: [], bufferedRows: 0, spills: [], rows: 0 };
    this.parts.set(p, part);
    return part;
  }

  private concat(parts: Columns[]): Columns {
    return parts.length === 1 ? parts[0]! : Object.fromEntries(this.t.schema.map((col) => [col.name, concatVectors(col.type, parts.map((x) => x[col.name]!))]));
  }

  private spillAll(): void {
    for (const part of this.parts.values()) {
      if (!part.bufferedRows) continue;
      const dir = path.join(part.stage.dir, `.spill-${part.spills.length}`);
      makeDir(dir);
      // Column by column from the buffered blocks: no concatenated copy of the partition's rows.
      for (const c of this.t.schema) {
        const blocks = part.buffered.map((b) => ({ vector: b[c.name]! }));
        writeColumnFromSources(path.join(dir, `${c.name}.col`), c, blocks, part.bufferedRows, false);
      }
      part.spills.push({ dir, rows: part.bufferedRows });
      part.buffered = [];
      part.bufferedRows = 0;
    }
    this.bufferedBytes = 0;
  }

  private base(p: { chunk: ChunkMeta }) {
    const cur = p.chunk.tables[this.table];
    return cur ? { dir: path.join(this.c.chunkDir(p.chunk, this.db), cur.version), rows: cur.rows } : undefined;
  }

  /** Writes a partition's final files into its stage: the base version's rows (OLAP) or links (TSDB), then the new rows. */
  private finish(part: Part): StagedPart {
    const { rows, files } = this.def.engine === 'OLAP' ? this.finishOlap(part) : this.finishTsdb(part);
    part.buffered = [];
    for (const s of part.spills) removeTree(s.dir);
    return { chunk: part.chunk, isNew: part.isNew, baseCid: part.baseCid, dir: part.stage.dir, rows, files };
  }

  /** TSDB: one sorted level file per spill, and one for the buffered rows; one segment in memory at a time. */
  private finishTsdb(part: Part): { rows: number; files: FileEntry[] } {
    const schema = this.t.schema;
    const syms = schema.filter((c) => c.type === 'SYMBOL');
    const segments: TsdbSegment[] = part.spills.map((s) => ({
      rows: s.rows,
      symbols: () => syms.flatMap((c) => columnDict(path.join(s.dir, `${c.name}.col`), c)),
      load: () => readOlapFiles(s.dir, schema),
    }));
    const rest = this.concat(part.buffered);
    segments.push({ rows: part.bufferedRows, symbols: () => Object.values(rest).flatMap((v) => (v.kind === 'sym' ? v.dict : [])), load: () => rest });
    return writeTsdbVersion(part.stage.dir, this.t, segments, this.base(part));
  }

  /**
   * OLAP, one column at a time, a range of rows at a time (the files writeTableFiles writes, with a
   * fraction of the memory): the base version's column, then each spill's, then the buffered rows.
   */
  private finishOlap(part: Part): { rows: number; files: FileEntry[] } {
    const base = this.base(part);
    const rows = part.rows + (base?.rows ?? 0);
    const files = this.t.schema.map((c) => {
      const name = `${c.name}.col`;
      const sources: ColumnSource[] = [...(base ? [base.dir] : []), ...part.spills.map((s) => s.dir)].map((d) => ({ file: path.join(d, name) }));
      for (const b of part.buffered) sources.push({ vector: b[c.name]! });
      return { name, size: writeColumnFromSources(path.join(part.stage.dir, name), c, sources, rows) };
    });
    return { rows, files };
  }
}

/** Starts a load into `table`: add batches, then commit (all partitions at once) or abort. */
export function beginBatch(c: Cluster, db: string, table: string, opts?: BatchOptions): Batch {
  return new Batch(c, db, table, opts);
}

/** The rows of each path (routeRows' paths and rowPath) as their own columns. */
export function splitByPath(cols: Columns, rows: number, paths: string[], rowPath: Uint32Array): { path: string; cols: Columns; rows: number }[] {
  if (paths.length === 1) return [{ path: paths[0]!, cols, rows }];
  const counts = new Uint32Array(paths.length);
  for (let i = 0; i < rows; i++) counts[rowPath[i]!]!++;
  const idx = paths.map((_, p) => new Uint32Array(counts[p]!));
  const fill = new Uint32Array(paths.length);
  for (let i = 0; i < rows; i++) {
    const p = rowPath[i]!;
    idx[p]![fill[p]!++] = i;
  }
  return paths.map((p, i) => ({ path: p, cols: Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, takeRows(v, idx[i]!)])), rows: idx[i]!.length }));
}
