import { move, transferableSymbol, valueSymbol } from 'piscina';
import { CvError, type ErrorCode } from '../common/errors.js';
import type { ColumnDef, Scheme } from '../store/index.js';
import { ColumnBuilder, fillRow } from './columns.js';
import { CsvParser } from './csv.js';
import { parseFast, type Block } from './fast-parse.js';
import { routeBlock, type RoutedBlock } from './route.js';

/**
 * Piscina worker of a parallel load: one piece of CSV (whole records, cut by the main thread at a
 * line end outside quotes) into column blocks. The byte parser (fast-parse.ts) takes pieces with no
 * quote and no CR; every other piece, and any piece the byte parser gives up on, goes through the
 * record parser, whose errors name the line. Lines are counted from the piece's start: an error
 * comes back as a value with that line, and the main thread, which knows where the piece starts,
 * writes the message with the file and the line in the file.
 */
export interface ParseTask {
  bytes: Uint8Array;
  schema: ColumnDef[];
  /** map[j]: the field of table column j. */
  map: number[];
  delimiter: string;
  nullString: string;
  /** The scheme as of the load's start, and the table's partition columns: the worker routes the rows. */
  scheme: Scheme;
  partitionColumns: string[];
}

export type ParseReply = ({ ok: true; lines: number; rows: number } & RoutedBlock) | { ok: false; code: ErrorCode; line: number; rest: string };

/** Stands for the file name in messages made here: `MARK:12: rest`. */
const MARK = '\u0000';

function countLines(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
}

function parseRecords(task: ParseTask, lines: number): Block {
  const builders = task.schema.map((c) => new ColumnBuilder(c, lines + 1));
  const rowLines: number[] = [];
  const parser = new CsvParser(MARK, task.delimiter, (fields, line) => {
    fillRow(builders, task.map, fields, line, MARK, task.nullString);
    rowLines.push(line);
  });
  parser.push(Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength).toString('utf8'));
  parser.end();
  const cols = Object.fromEntries(builders.map((b) => [b.col.name, b.vector()]));
  return { rows: rowLines.length, cols, rowLines: Uint32Array.from(rowLines) };
}

/** The reply with its columns' buffers transferred, not copied: no second copy of each block in either thread. */
function moved(r: Extract<ParseReply, { ok: true }>): ParseReply {
  const bufs = new Set<ArrayBufferLike>();
  for (const part of r.parts) for (const v of Object.values(part)) if (v.kind !== 'str') bufs.add(v.kind === 'sym' ? v.codes.buffer : v.values.buffer);
  return move({ [transferableSymbol]: [...bufs], [valueSymbol]: r } as never) as unknown as ParseReply;
}

export default function parseChunk(task: ParseTask): ParseReply {
  const lines = countLines(task.bytes);
  try {
    const block = parseFast(task.bytes, task.schema, task.map, task.delimiter, task.nullString) ?? parseRecords(task, lines);
    const routed = routeBlock(task.scheme, task, block.cols, block.rows, MARK, (i) => block.rowLines[i]!);
    return moved({ ok: true, lines, rows: block.rows, ...routed });
  } catch (err) {
    if (!(err instanceof CvError)) throw err;
    const m = /^\u0000:(\d+): ([\s\S]*)$/.exec(err.message);
    return { ok: false, code: err.code, line: m ? Number(m[1]) : 0, rest: m ? m[2]! : err.message.replace(/^\u0000:? ?/, '') };
  }
}
