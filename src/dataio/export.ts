import fs from 'node:fs';
import path from 'node:path';
import { uniqueHex } from '../common/unique-name.js';
import { usage } from '../common/errors.js';
import { closeFile, openFile, removeFile, renamePath, syncDir, syncFile } from '../common/fsio.js';
import { WriteBehind } from '../common/write-behind.js';
import { dbNameOf, forEachVersionRange, pinDatabase, rangeReadable, readVersionDir, tableOf, valueAt, type Cluster, type ColumnDef, type Vector } from '../store/index.js';
import { ByteSink, rowWriter, writeRows } from './csv-out.js';
import { ParallelCsv, type ExportParallelism } from './export-parallel.js';
import { formatValue } from './values.js';

/**
 * `export` and `db head`: a table's rows, partition by partition in path order, from a pinned
 * snapshot (writers go on; the export sees the table as of its start). CSV cells are DolphinDB
 * literals with NULL as the empty field; JSONL gives NULL as null.
 */
export interface ExportOptions {
  /** A partition pattern over paths relative to the database (`/Key3/%`), or with its name (`/testdb/Key3/%`). */
  partition?: string;
  columns?: string[];
  limit?: number;
  format?: 'csv' | 'jsonl';
  delimiter?: string;
  header?: boolean;
  /** CSV written in worker threads on OLAP tables without STRING (the CLI passes io/defaults' exportParallelism); absent or 0 workers: in this thread. */
  parallel?: ExportParallelism;
}

export interface ExportResult {
  dbPath: string;
  table: string;
  format: 'csv' | 'jsonl';
  rows: number;
  partitions: number;
  bytes: number;
  seconds: number;
  mbPerSec: number;
}

/**
 * Rows per range read from a partition: ~2.4 MB of quotes columns in memory. 10.3 GB of CSV, quiet
 * machine, with the write-behind below: 262,144 rows peaked at 306 MB RSS, 65,536 at 290 MB.
 */
const RANGE_ROWS = 65_536;

function patternTest(dbPath: string, pattern: string | undefined): (p: string) => boolean {
  if (!pattern) return () => true;
  if (!/^[A-Za-z0-9_.%?/-]+$/.test(pattern) || !/^[/%?]/.test(pattern)) throw usage(`bad partition pattern "${pattern}": a path like /Key3/tp/20120101 with % (any run) and ? (one character)`);
  const re = new RegExp('^' + pattern.replace(/[.\\/-]/g, (ch) => '\\' + ch).replace(/%/g, '.*').replace(/\?/g, '.') + '$');
  const name = dbNameOf(dbPath);
  return (p) => re.test(p) || re.test(`/${name}${p}`);
}


function jsonCell(col: ColumnDef, s: string, raw: number | bigint | string): unknown {
  if (s === '' && col.type !== 'SYMBOL' && col.type !== 'STRING') return null;
  if (['INT', 'FLOAT', 'DOUBLE'].includes(col.type) || (col.type === 'LONG' && Number.isSafeInteger(Number(raw)))) return Number(s);
  if (col.type === 'BOOL') return s === 'true';
  return s;
}

/** The rows of one partition's columns as JSON lines. */
function jsonRows(cols: ColumnDef[], vecs: Vector[], from: number, to: number): string {
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(JSON.stringify(Object.fromEntries(cols.map((c, j) => { const raw = valueAt(vecs[j]!, i); return [c.name, jsonCell(c, formatValue(c.type, raw), raw)]; }))));
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The rows of one partition as CSV into the sink. */
async function csvRows(out: ByteSink, cols: ColumnDef[], vecs: Vector[], n: number, delim: string): Promise<void> {
  const rw = rowWriter(cols, vecs, delim);
  for (let i = 0; i < n; ) {
    await out.room(rw.width);
    i = writeRows(out, rw, i, n);
  }
}

/** Streams a table's rows to `write` in chunks of UTF-8 (which may return a promise to apply backpressure). */
export async function exportTable(c: Cluster, dbPath: string, table: string, opts: ExportOptions, write: (chunk: Uint8Array) => void | Promise<void>): Promise<ExportResult> {
  const t0 = performance.now();
  const format = opts.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') throw usage(`bad --format "${String(format)}": expected csv or jsonl`);
  const o = { format, delimiter: opts.delimiter ?? ',' };
  if (o.delimiter.length !== 1) throw usage(`bad delimiter ${JSON.stringify(o.delimiter)}: one character`);
  const test = patternTest(dbPath, opts.partition);
  const snap = pinDatabase(c, dbPath);
  let rows = 0;
  let bytes = 0;
  let partitions = 0;
  let par: ParallelCsv | undefined;
  try {
    const t = tableOf(snap.def, table);
    const cols = opts.columns ? opts.columns.map((n) => t.schema.find((s) => s.name === n) ?? (() => { throw usage(`unknown column "${n}": table ${table} has ${t.schema.map((s) => s.name).join(', ')}`); })()) : t.schema;
    const out = new ByteSink(1 << 20, async (chunk) => {
      bytes += chunk.length;
      await write(chunk);
    });
    const emit = async (text: string) => {
      await out.room(Buffer.byteLength(text));
      out.pos += out.buf.write(text, out.pos, 'utf8');
    };
    if (format === 'csv' && opts.header !== false) await emit(cols.map((c) => c.name).join(o.delimiter) + '\n');
    // Workers only where partitions are read in row ranges: on STRING tables (whole partitions read
    // in this thread) they measured slower and larger than serial (PERFORMANCE.md).
    if (format === 'csv' && opts.parallel && opts.parallel.workers > 0 && rangeReadable(t)) {
      await out.flush();
      par = new ParallelCsv(opts.parallel, o.delimiter, async (b) => {
        bytes += b.length;
        await write(b);
      });
    }
    const limit = opts.limit ?? Infinity;
    for (const k of snap.chunks) {
      const v = k.tables[table];
      if (!v || !test(k.path) || rows >= limit) continue;
      const dir = path.join(c.chunkDir(k, dbPath), v.version);
      const n = Math.min(v.rows, limit - rows);
      partitions++;
      const put = async (vecs: Vector[], m: number) => {
        if (par) await par.put(cols, vecs, m);
        else if (format === 'csv') await csvRows(out, cols, vecs, m, o.delimiter);
        else for (let i = 0; i < m; i += 16_384) await emit(jsonRows(cols, vecs, i, Math.min(m, i + 16_384)));
      };
      // A range of rows at a time where the store can (no STRING column): memory is one range, not the partition.
      if (rangeReadable(t)) await forEachVersionRange(dir, snap.def, t, cols, v.rows, n, RANGE_ROWS, put);
      else {
        const data = readVersionDir(dir, snap.def, t);
        await put(cols.map((col) => data[col.name]!), n);
      }
      rows += n;
    }
    await par?.finish();
    await out.flush();
  } finally {
    await par?.close();
    snap.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { dbPath, table, format, rows, partitions, bytes, seconds, mbPerSec: bytes / 1e6 / seconds };
}

/**
 * Bytes of CSV handed to the file and not yet written, while the export goes on (common/write-behind.ts).
 * 10.3 GB, quiet machine: none (a sync write) 219.5 MB/s, 271 MB RSS; 32 MiB 271.6 MB/s, 333 MB;
 * 8 MiB 261-283 MB/s, 290-306 MB (the lower with 65,536-row ranges).
 */
const WRITE_BEHIND_BYTES = 8 << 20;

/** Exports into a file that appears whole (temp → fsync → rename) or not at all. */
export async function exportToFile(c: Cluster, dbPath: string, table: string, opts: ExportOptions, file: string): Promise<ExportResult> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${uniqueHex()}`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = openFile(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW);
  let open = true;
  const out = new WriteBehind(fd, WRITE_BEHIND_BYTES);
  try {
    const res = await exportTable(c, dbPath, table, opts, (chunk) => out.write(chunk));
    await out.drain();
    syncFile(fd);
    open = false;
    closeFile(fd);
    renamePath(tmp, file);
    syncDir(dir);
    return res;
  } catch (err) {
    await out.settle();
    if (open) closeFile(fd);
    removeFile(tmp);
    throw err;
  }
}
