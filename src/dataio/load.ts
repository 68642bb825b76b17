import fs from 'node:fs';
import { CvError, fromSystemError, usage } from '../common/errors.js';
import { beginBatch, levelsOf, routeRows, type Batch, type Cluster, type TableDef, type Vector } from '../store/index.js';
import { ColumnBuilder } from './columns.js';
import { CsvParser } from './csv.js';
import { loadParquet } from './parquet.js';

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

  flush(): void {
    if (!this.lines.length) return;
    const cols: Record<string, Vector> = {};
    for (const b of this.builders) cols[b.col.name] = b.vector();
    try {
      this.batch.add(cols);
    } catch (err) {
      throw this.locate(err, cols);
    }
    this.rows += this.lines.length;
    this.lines = [];
    for (const b of this.builders) b.reset();
  }

  /** A routing error (a value outside every RANGE, a NULL partition key) gets the line and column of the first row that causes it. */
  private locate(err: unknown, cols: Record<string, Vector>): unknown {
    if (!(err instanceof CvError)) return err;
    const levels = levelsOf(this.batch.def.scheme);
    for (let i = 0; i < this.lines.length; i++) {
      for (let li = 0; li < levels.length; li++) {
        const name = this.t.partitionColumns[li]!;
        try {
          routeRows(levels[li]!, [{ type: this.t.schema.find((s) => s.name === name)!.type, vec: slice(cols[name]!, i) }]);
        } catch (e) {
          if (e instanceof CvError) return new CvError(e.code, `${this.file}:${this.lines[i]}: column ${name}: ${e.message}`);
          throw e;
        }
      }
    }
    return err;
  }
}

function slice(v: Vector, i: number): Vector {
  if (v.kind === 'sym') return { kind: 'sym', dict: v.dict, codes: v.codes.subarray(i, i + 1) };
  if (v.kind === 'str') return { kind: 'str', values: v.values.slice(i, i + 1) };
  return { kind: 'num', type: v.type, values: v.values.subarray(i, i + 1) };
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
    if (fields.length !== map.length) throw usage(`${file}:${line}: ${fields.length < map.length ? 'short' : 'long'} row: ${fields.length} field(s), expected ${map.length}`);
    const bs = sink.builders;
    for (let j = 0; j < bs.length; j++) {
      const text = fields[map[j]!]!;
      if (!bs[j]!.add(text, text === nullString))
        throw usage(`${file}:${line}: column ${bs[j]!.col.name}: "${text.length > 60 ? text.slice(0, 60) + '…' : text}" is not a ${bs[j]!.col.type}`);
    }
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
  const batch = beginBatch(c, dbPath, table);
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
      const input = file === '-' ? process.stdin : fs.createReadStream(file, { highWaterMark: 1 << 20 });
      await loadCsv(sink, input, opts, onBytes).catch((err: unknown) => {
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
