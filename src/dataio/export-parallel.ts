import { Piscina } from 'piscina';
import type { ColumnDef, Vector } from '../store/index.js';
import type { FormatTask } from './export-worker.js';
import { poolEntry } from '../common/entry-points.js';

/**
 * The parallel CSV path of `export`: this thread reads the partitions (and verifies their
 * checksums) as the serial path does, cuts the rows into pieces and hands them to worker threads
 * (export-worker.ts), which write them as CSV lines; the lines are written in piece order, so the
 * output is byte for byte the serial one. At most `inFlight` pieces are out at a time: memory is
 * a few pieces in and out, whatever the table's size.
 */
export interface ExportParallelism {
  workers: number;
  /** Rows per piece handed to a worker. */
  pieceRows: number;
  /** Pieces out (being written, or written and waiting their turn) at a time. */
  inFlight: number;
}

/** Rows from..to-1 of a vector, in a buffer of their own (a view would send its whole buffer). */
function sliceVector(v: Vector, from: number, to: number): Vector {
  if (v.kind === 'num') return { kind: 'num', type: v.type, values: v.values.slice(from, to) };
  if (v.kind === 'sym') return { kind: 'sym', dict: v.dict, codes: v.codes.slice(from, to) };
  return { kind: 'str', values: v.values.slice(from, to) };
}

export class ParallelCsv {
  private readonly pool: Piscina;
  private readonly queue: Promise<Buffer>[] = [];

  constructor(
    private readonly o: ExportParallelism,
    private readonly delimiter: string,
    private readonly send: (b: Buffer) => Promise<void>,
  ) {
    this.pool = new Piscina({ ...poolEntry('export-worker'), minThreads: o.workers, maxThreads: o.workers, idleTimeout: 1000 });
  }

  /** Queues rows 0..n-1 of the vectors, writing the oldest pieces while inFlight are out. */
  async put(cols: ColumnDef[], vecs: Vector[], n: number): Promise<void> {
    for (let from = 0; from < n; from += this.o.pieceRows) {
      const to = Math.min(n, from + this.o.pieceRows);
      while (this.queue.length >= this.o.inFlight) await this.writeOldest();
      const task: FormatTask = { cols, vecs: vecs.map((v) => sliceVector(v, from, to)), rows: to - from, delimiter: this.delimiter };
      const transfer = task.vecs.flatMap((v) => (v.kind === 'str' ? [] : [(v.kind === 'num' ? v.values : v.codes).buffer]));
      const p = this.pool.run(task, { transferList: transfer as ArrayBuffer[] }) as Promise<Buffer>;
      p.catch(() => undefined); // awaited in order by writeOldest; a failure there is the one reported
      this.queue.push(p);
    }
  }

  private async writeOldest(): Promise<void> {
    const b = await this.queue.shift()!;
    await this.send(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  /** Writes every queued piece in order. */
  async finish(): Promise<void> {
    while (this.queue.length) await this.writeOldest();
  }

  /**
   * Waits for the pieces still out (after a failure, unwritten), then stops the workers: a worker
   * that answers after destroy() makes piscina throw "Unexpected message from Worker" as an
   * uncaught error (seen in CI, stop 21).
   */
  async close(): Promise<void> {
    await Promise.allSettled(this.queue.splice(0));
    await this.pool.destroy();
  }
}
