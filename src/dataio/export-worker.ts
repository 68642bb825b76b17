import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { ColumnDef, Vector } from '../store/index.js';
import { rowWriter, writeRows } from './csv-out.js';

/**
 * Piscina worker of a parallel export (export-parallel.ts): one piece of a partition's rows (the
 * main thread read and checked them) as CSV lines, written by the same row loop as the serial path.
 */
export interface FormatTask {
  cols: ColumnDef[];
  vecs: Vector[];
  rows: number;
  delimiter: string;
}

/** Reused across tasks: the used part is copied out, so the next task writes over it. */
let scratch = Buffer.allocUnsafeSlow(1 << 20);

export default function formatPiece(t: FormatTask): Buffer {
  const rw = rowWriter(t.cols, t.vecs, t.delimiter);
  const need = rw.width * t.rows;
  if (scratch.length < need) scratch = Buffer.allocUnsafeSlow(need);
  const out = { buf: scratch, pos: 0 };
  writeRows(out, rw, 0, t.rows);
  const res = Buffer.allocUnsafeSlow(out.pos);
  scratch.copy(res, 0, 0, out.pos);
  return move({ [transferableSymbol]: [res.buffer], [valueSymbol]: res } as never) as unknown as Buffer;
}
