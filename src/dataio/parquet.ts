import fs from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { CvError, fromSystemError } from '../common/errors.js';
import type { ColType } from '../store/index.js';
import type { RowSink } from './load.js';

/**
 * Parquet input through hyparquet (pure JS): the file's columns are matched to the table's by
 * name and physical type, then read a slice of rows at a time (flat memory), each value checked
 * into the column builders. A schema that does not fit the table is CONFLICT, before any row.
 */

/** Which table types a Parquet physical type can fill. */
const FITS: Record<string, ColType[]> = {
  BOOLEAN: ['BOOL'],
  INT32: ['INT', 'DATE', 'MONTH', 'TIME'],
  INT64: ['LONG', 'TIMESTAMP'],
  FLOAT: ['FLOAT', 'DOUBLE'],
  DOUBLE: ['DOUBLE', 'FLOAT'],
  BYTE_ARRAY: ['SYMBOL', 'STRING'],
};

const SLICE_ROWS = 65_536;

export async function loadParquet(sink: RowSink, file: string, onBytes: (n: number) => void): Promise<void> {
  const { t } = sink;
  let buffer;
  let metadata;
  try {
    buffer = await asyncBufferFromFile(file);
    metadata = await parquetMetadataAsync(buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).syscall) throw fromSystemError(err, `cannot read ${file}`);
    throw new CvError('USAGE', `${file}: not a Parquet file (${(err as Error).message})`);
  }
  const fileCols = new Map(parquetSchema(metadata).children.map((c) => [c.element.name, c.element.type ?? 'GROUP']));
  for (const [name, type] of fileCols) {
    const col = t.schema.find((c) => c.name === name);
    if (!col) throw new CvError('CONFLICT', `${file}: incompatible schema: column "${name}" is not in table ${t.name} (${t.schema.map((c) => c.name).join(', ')})`);
    if (!FITS[type]?.includes(col.type)) throw new CvError('CONFLICT', `${file}: incompatible schema: column ${name} is ${type} in the file, ${col.type} in table ${t.name}`);
  }
  const missing = t.schema.find((c) => !fileCols.has(c.name));
  if (missing) throw new CvError('CONFLICT', `${file}: incompatible schema: the file has no column "${missing.name}" of table ${t.name}`);
  const total = Number(metadata.num_rows);
  const size = fs.statSync(file).size;
  const names = t.schema.map((c) => c.name);
  for (let start = 0; start < total; start += SLICE_ROWS) {
    const end = Math.min(total, start + SLICE_ROWS);
    let rows: unknown[][] = [];
    await parquetRead({ file: buffer, metadata, columns: names, rowStart: start, rowEnd: end, onComplete: (r: unknown[][]) => (rows = r) });
    rows.forEach((row, i) => {
      sink.builders.forEach((b, j) => {
        if (!b.addValue(row[j])) throw new CvError('USAGE', `${file}: row ${start + i + 1}: column ${b.col.name}: ${String(row[j])} is not a ${b.col.type}`);
      });
      sink.rowDone(start + i + 1);
    });
    onBytes(Math.round((size * (end - start)) / total));
  }
}
