import fs from 'node:fs';
import { fromSystemError, usage } from '../common/errors.js';
import { beginBatch, type Batch, type Scheme, type Cluster, type TableDef, type Vector } from '../store/index.js';
import { ColumnBuilder, fillRow } from './columns.js';
import { CsvParser } from './csv.js';
import { hasLoneCr, ParallelCsvLoad, type ParallelOptions } from './load-parallel.js';
import type { ParseReply } from './load-worker.js';
import { loadParquet } from './parquet.js';
import { locateRouteError } from './route.js';

/**
 * `load`: a CSV or Parquet file (or stdin) into a table, in batches through the store's Batch,
 * committed to every partition at once at the end. Any bad value, row or header aborts the load
 * with one line naming the file, line, column and value, and nothing is changed.
 */
export interface LoadOptions {
  format?: 'csv' | 'parquet';
  delimiter?: string;
  /** The text that means NULL (default: the empty field). */
  nullString?: string;
  /** false: the file has no header row; its columns are the table's, in order. */
  header?: boolean;
  /** Rows per batch handed to the store (default 65,536). */
  batchRows?: number;
  /** Bytes of rows the store buffers before spilling them to the stages (the store's default: 64 MB). */
  bufferBytes?: number;
  /** Parse CSV in worker threads (the CLI passes DATAIO_DEFAULTS from src/io/defaults.ts); without it, in this thread. */
  parallel?: ParallelOptions;
  onProgress?(bytes: number, rows: number, totalBytes: number): void;
}

export interface LoadResult {
  dbPath: string;
  table: string;
  file: string;
  format: 'csv' | 'parquet';
  rows: number;
  partitions: number;
  bytes: number;
  seconds: number;
  mbPerSec: number;
  rowsPerSec: number;
}

export function formatOf(file: string, format?: string): 'csv' | 'parquet' {
  if (format !== undefined && format !== 'csv' && format !== 'parquet') throw usage(`bad --format "${format}": expected csv or parquet`);
  return (format as 'csv' | 'parquet' | undefined) ?? (/\.parquet$/i.test(file) ? 'parquet' : 'csv');
}

/** Rows of text cells → typed batches → the store. Shared by the CSV path; Parquet fills the builders itself. */
export class RowSink {
  readonly builders: ColumnBuilder[];
  private lines: number[] = [];
  rows = 0;

  constructor(
    readonly batch: Batch,
    readonly t: TableDef,
    readonly file: string,
    private readonly batchRows: number,
  ) {
    this.builders = t.schema.map((c) => new ColumnBuilder(c, batchRows));
  }

  /** Call after filling one row of every builder. */
  rowDone(line: number): void {
    this.lines.push(line);
    if (this.lines.length >= this.batchRows) this.flush();
  }

  get schema(): TableDef['schema'] {
    return this.t.schema;
  }

  get scheme(): Scheme {
    return this.batch.def.scheme;
  }

  get partitionColumns(): string[] {
    return this.t.partitionColumns;
  }

  columnMap(header: string[] | undefined): number[] {
    return columnMap(this.t, this.file, header);
  }

  /** A block parsed and routed by a worker. */
  addBlock(r: Extract<ParseReply, { ok: true }>): void {
    this.batch.addRouted(r.paths, r.parts, new Map(r.newValues));
    this.rows += r.rows;
  }

  flush(): void {
    if (!this.lines.length) return;
    const cols: Record<string, Vector> = {};
    for (const b of this.builders) cols[b.col.name] = b.vector();
    try {
      this.batch.add(cols);
    } catch (err) {
      throw this.locate(err, cols, (i) => this.lines[i]!);
    }
    this.rows += this.lines.length;
    this.lines = [];
    for (const b of this.builders) b.reset();
  }

  private locate(err: unknown, cols: Record<string, Vector>, lineOf: (row: number) => number): unknown {
    return locateRouteError(err, this.batch.def.scheme, this.t, cols, this.file, lineOf);
  }
}

/** Maps header names to the table's columns: every table column must be there, and no other. */
function columnMap(t: TableDef, file: string, header: string[] | undefined): number[] {
  if (!header) return t.schema.map((_, i) => i);
  const names = header.map((h) => h.trim());
  const unknown = names.find((h) => !t.schema.some((c) => c.name === h));
  if (unknown !== undefined) throw usage(`${file}:1: unknown column "${unknown}": table ${t.name} has ${t.schema.map((c) => c.name).join(', ')}`);
  const dup = names.find((h, i) => names.indexOf(h) !== i);
  if (dup !== undefined) throw usage(`${file}:1: column "${dup}" appears twice in the header`);
  const missing = t.schema.find((c) => !names.includes(c.name));
  if (missing) throw usage(`${file}:1: the header has no column "${missing.name}" of table ${t.name}`);
  return t.schema.map((c) => names.indexOf(c.name));
}

async function loadCsv(sink: RowSink, input: NodeJS.ReadableStream, opts: LoadOptions, onBytes: (n: number) => void): Promise<void> {
  const { t, file } = sink;
  const nullString = opts.nullString ?? '';
  let map: number[] | undefined = opts.header === false ? columnMap(t, file, undefined) : undefined;
  const parser = new CsvParser(file, opts.delimiter ?? ',', (fields, line) => {
    if (!map) {
      map = columnMap(t, file, fields);
      return;
    }
    fillRow(sink.builders, map, fields, line, file, nullString);
    sink.rowDone(line);
  });
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    parser.push(chunk);
    onBytes(Buffer.byteLength(chunk));
  }
  parser.end();
  if (!map) throw usage(`${file}: the file is empty (no header row)`);
}

/** True when the file's first 64 KiB end lines with a lone CR, which only the serial parser reads. */
function loneCrFile(file: string): boolean {
  if (file === '-') return false;
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(65_536);
    return hasLoneCr(b.subarray(0, fs.readSync(fd, b, 0, b.length, 0)));
  } finally {
    fs.closeSync(fd);
  }
}

/** A file of one piece or less, or with lone-CR line ends, is parsed in this thread: no pool to start for nothing. */
async function readCsv(sink: RowSink, file: string, size: number, opts: LoadOptions, onBytes: (n: number) => void): Promise<void> {
  const p = opts.parallel;
  if (!p || p.workers < 1 || (file !== '-' && size <= p.chunkBytes) || loneCrFile(file)) {
    const input = file === '-' ? process.stdin : fs.createReadStream(file, { highWaterMark: 1 << 20 });
    return loadCsv(sink, input, opts, onBytes);
  }
  const input = file === '-' ? process.stdin : fs.createReadStream(file, { highWaterMark: p.chunkBytes });
  const load = new ParallelCsvLoad(sink, { ...p, delimiter: opts.delimiter ?? ',', nullString: opts.nullString ?? '', header: opts.header !== false }, onBytes);
  await load.run(input as AsyncIterable<Buffer>);
}

/** Loads a file ('-' is stdin) into dbPath/table; all rows become visible at once, or none. */
export async function loadFile(c: Cluster, dbPath: string, table: string, file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const format = formatOf(file, opts.format);
  const t0 = performance.now();
  let totalBytes = 0;
  if (file !== '-') {
    try {
      totalBytes = fs.statSync(file).size;
    } catch (err) {
      throw fromSystemError(err, `cannot read ${file}`);
    }
  }
  const batch = beginBatch(c, dbPath, table, opts.bufferBytes ? { bufferBytes: opts.bufferBytes } : {});
  const sink = new RowSink(batch, batch.schema, file === '-' ? 'stdin' : file, opts.batchRows ?? 65_536);
  let bytes = 0;
  const onBytes = (n: number) => {
    bytes += n;
    opts.onProgress?.(bytes, sink.rows, totalBytes);
  };
  let res;
  try {
    if (format === 'parquet') {
      if (file === '-') throw usage('Parquet cannot be read from stdin: give the file');
      await loadParquet(sink, file, onBytes);
    } else {
      await readCsv(sink, file, totalBytes, opts, onBytes).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).syscall ? fromSystemError(err, `cannot read ${file}`) : err;
      });
    }
    sink.flush();
    res = batch.commit();
  } catch (err) {
    batch.abort();
    throw err;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { dbPath, table, file, format, rows: res.rows, partitions: res.partitions.length, bytes, seconds, mbPerSec: bytes / 1e6 / seconds, rowsPerSec: Math.round(res.rows / seconds) };
}
