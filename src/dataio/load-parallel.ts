import { Piscina } from 'piscina';
import { CvError, usage } from '../common/errors.js';
import { CsvParser } from './csv.js';
import type { ParseReply, ParseTask } from './load-worker.js';
import { poolEntry } from '../common/entry-points.js';

/**
 * The parallel CSV path of `load`: this thread reads the input, cuts it into pieces of whole
 * records at a line end outside quotes, and hands them to worker threads (load-worker.ts), which
 * build the column blocks. Blocks are added to the load's Batch in file order, so rows land where
 * a serial load puts them and the first error in the file is the one reported, with its line. At
 * most `inFlight` pieces are read ahead: memory stays flat at any file size.
 */
export interface ParallelOptions {
  workers: number;
  /** Bytes of CSV per piece handed to a worker. */
  chunkBytes: number;
  /** Pieces read ahead of the one being added. */
  inFlight: number;
  /** A record longer than this is an error (an unterminated quote would otherwise read the whole file into memory). */
  maxRecordBytes: number;
}

/** What the parallel path needs from the load: the table's columns, the header mapping and where blocks go. */
export interface BlockTarget {
  readonly file: string;
  readonly schema: ParseTask['schema'];
  readonly scheme: ParseTask['scheme'];
  readonly partitionColumns: string[];
  columnMap(header: string[] | undefined): number[];
  addBlock(reply: Extract<ParseReply, { ok: true }>): void;
}

/** Where the last record of b ends (past its LF), counting quotes from b's start; 0 when no record ends in b. */
export function lastRecordEnd(b: Uint8Array): number {
  if (b.indexOf(34) < 0) return b.lastIndexOf(10) + 1;
  let quoted = false, end = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) end = i + 1;
  }
  return end;
}

/** Where the first record of b ends (past its LF), or 0. */
function firstRecordEnd(b: Uint8Array): number {
  let quoted = false;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 34) quoted = !quoted;
    else if (b[i] === 10 && !quoted) return i + 1;
  }
  return 0;
}

/** A CR not followed by LF: lines end with a lone CR, which the cut at LF does not handle. */
export function hasLoneCr(b: Uint8Array): boolean {
  const i = b.indexOf(13);
  return i >= 0 && i + 1 < b.length && b[i + 1] !== 10;
}

function headerFields(file: string, delimiter: string, bytes: Uint8Array): string[] {
  let fields: string[] | undefined;
  const p = new CsvParser(file, delimiter, (f) => (fields ??= f));
  p.push(Buffer.from(bytes).toString('utf8'));
  p.end();
  return fields ?? [];
}

export class ParallelCsvLoad {
  private readonly pool: Piscina<ParseTask, ParseReply>;
  private readonly queue: { reply: Promise<ParseReply>; bytes: number }[] = [];
  private map: number[] | undefined;
  private pending: Buffer = Buffer.alloc(0);
  /** The line in the file of the next piece's first line. */
  private line = 1;

  constructor(
    private readonly target: BlockTarget,
    private readonly o: ParallelOptions & { delimiter: string; nullString: string; header: boolean },
    private readonly onBytes: (n: number) => void,
  ) {
    this.pool = new Piscina({ ...poolEntry('load-worker'), minThreads: o.workers, maxThreads: o.workers, idleTimeout: 1000 });
    new CsvParser(target.file, o.delimiter, () => undefined); // checks the delimiter
    if (!o.header) this.map = target.columnMap(undefined);
  }

  /** Reads the whole input; returns after every block is added (or throws the first error in the file). */
  async run(input: AsyncIterable<Buffer>): Promise<void> {
    try {
      for await (const buf of input) {
        this.pending = this.pending.length ? Buffer.concat([this.pending, buf]) : buf;
        if (!this.map && !this.takeHeader(false)) continue;
        if (this.pending.length < this.o.chunkBytes) continue;
        const cut = lastRecordEnd(this.pending);
        if (cut === 0) {
          if (this.pending.length > this.o.maxRecordBytes) return await this.tooLong();
          continue;
        }
        this.dispatch(this.pending.subarray(0, cut));
        this.pending = this.pending.subarray(cut);
        while (this.queue.length >= this.o.inFlight) await this.consume();
      }
      if (!this.map) this.takeHeader(true);
      if (this.pending.length) this.dispatch(this.pending);
      while (this.queue.length) await this.consume();
    } finally {
      // Pieces still out after a failure are waited for first: see ParallelCsv.close.
      await Promise.allSettled(this.queue.splice(0).map((q) => q.reply));
      await this.pool.destroy();
    }
  }

  /** Maps the header once its record is whole; false while it is not. */
  private takeHeader(final: boolean): boolean {
    let end = firstRecordEnd(this.pending);
    if (end === 0 && !final) {
      if (this.pending.length > this.o.maxRecordBytes) throw usage(`${this.target.file}:1: the header row is longer than ${this.o.maxRecordBytes} bytes`);
      return false;
    }
    if (end === 0) end = this.pending.length;
    const head = this.pending.subarray(0, end);
    if (!head.length) throw usage(`${this.target.file}: the file is empty (no header row)`);
    this.map = this.target.columnMap(headerFields(this.target.file, this.o.delimiter, head));
    for (let i = head.indexOf(10); i >= 0; i = head.indexOf(10, i + 1)) this.line++;
    this.onBytes(end);
    this.pending = this.pending.subarray(end);
    return true;
  }

  private dispatch(piece: Uint8Array): void {
    const bytes = new Uint8Array(piece.length);
    bytes.set(piece);
    const t = this.target;
    const task: ParseTask = { bytes, schema: t.schema, map: this.map!, delimiter: this.o.delimiter, nullString: this.o.nullString, scheme: t.scheme, partitionColumns: t.partitionColumns };
    const reply = this.pool.run(task, { transferList: [bytes.buffer] });
    reply.catch(() => undefined);
    this.queue.push({ reply, bytes: piece.length });
  }

  private async consume(): Promise<void> {
    const { reply, bytes } = this.queue.shift()!;
    const r = await reply;
    if (!r.ok) throw new CvError(r.code, r.line ? `${this.target.file}:${this.line + r.line - 1}: ${r.rest}` : `${this.target.file}: ${r.rest}`);
    this.target.addBlock(r);
    this.line += r.lines;
    this.onBytes(bytes);
  }

  /** No line end outside quotes in maxRecordBytes: the record parser names the unterminated quote (or the record is too long). */
  private async tooLong(): Promise<void> {
    while (this.queue.length) await this.consume();
    const at = this.line;
    this.dispatch(this.pending);
    await this.consume();
    throw usage(`${this.target.file}:${at}: a record longer than ${this.o.maxRecordBytes} bytes`);
  }
}
