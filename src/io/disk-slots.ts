import { CvError } from '../common/errors.js';

/**
 * Per-disk concurrency as the workers see it: one counting semaphore per disk in a
 * SharedArrayBuffer, taken by a worker when a task starts running and given back when it ends.
 * The main thread's DiskQueue only decides how many tasks per disk are posted ahead; the limit
 * itself ("tasks touching this disk at once", see disk-queue.ts) is held here, where the I/O runs.
 * A worker then finds its next task already in its own queue when the main thread is busy (a
 * restore's group commit blocks it for 0.1-0.3 s at a time; the workers waited ~1 s of a 4.5 s
 * many-shape restore, docs/PERFORMANCE.md "Session 17").
 * Like DiskQueue: a task holds one slot per distinct disk, taken in index order, so two tasks
 * never each hold a disk the other waits for; a worker runs one task at a time (copy-worker.ts).
 */

/** Disks one pipeline can name (volumes, repositories, S3 endpoints): far more than any home has. */
export const MAX_DISKS = 256;
const COUNT = 0;
const MAX = MAX_DISKS;
const LIMIT = 2 * MAX_DISKS;
const CREATE = 3 * MAX_DISKS;
const CREATE_LIMIT = 4 * MAX_DISKS;
/** A waiting worker looks at its stop flags this often. */
const POLL_MS = 50;
/** Atomics.waitAsync (Node 16+), which TypeScript's ES2022 library does not declare. */
type WaitAsync = (cells: Int32Array, index: number, value: number, ms: number) => { async: false } | { async: true; value: Promise<unknown> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync.bind(Atomics);

/** The main thread's side: gives each disk an index (with its limit) and reads what the workers did. */
export class DiskSlots {
  readonly sab = new SharedArrayBuffer(5 * MAX_DISKS * 4);
  private readonly cells = new Int32Array(this.sab);
  private readonly ids = new Map<string, number>();

  /** `createLimit`: names made on a disk at once (holdCreate), 1 unless given. */
  constructor(
    private readonly limitFor: (disk: string) => number,
    private readonly createLimit = 1,
  ) {}

  /** The slot indices of these disks (each distinct disk once), for a task to take in the worker. */
  indices(disks: readonly string[]): number[] {
    return [...new Set(disks)].map((d) => this.indexOf(d)).sort((a, b) => a - b);
  }

  /** The most tasks ever running on `disk` at once (0 if never used). */
  maxObserved(disk: string): number {
    const i = this.ids.get(disk);
    return i === undefined ? 0 : Atomics.load(this.cells, MAX + i);
  }

  /** The slot index of one disk, given on first use (also where a task creates names, for holdCreate). */
  indexOf(disk: string): number {
    let i = this.ids.get(disk);
    if (i === undefined) {
      if (this.ids.size >= MAX_DISKS) throw new CvError('USAGE', `one operation cannot use more than ${MAX_DISKS} disks`);
      i = this.ids.size;
      this.ids.set(disk, i);
      Atomics.store(this.cells, LIMIT + i, this.limitFor(disk));
      Atomics.store(this.cells, CREATE_LIMIT + i, this.createLimit);
    }
    return i;
  }
}

/**
 * The worker's side: waits (without blocking the thread's event loop) for a slot on each disk, in
 * index order. Throws CANCELLED, holding nothing, once `stopped()` says so.
 */
export async function takeSlots(sab: SharedArrayBuffer, indices: readonly number[], stopped: () => boolean): Promise<void> {
  const cells = new Int32Array(sab);
  const held: number[] = [];
  for (const i of indices) {
    for (;;) {
      const n = Atomics.load(cells, COUNT + i);
      if (n < Atomics.load(cells, LIMIT + i)) {
        if (Atomics.compareExchange(cells, COUNT + i, n, n + 1) !== n) continue;
        for (let m = Atomics.load(cells, MAX + i); m < n + 1; m = Atomics.load(cells, MAX + i)) if (Atomics.compareExchange(cells, MAX + i, m, n + 1) === m) break;
        held.push(i);
        break;
      }
      if (stopped()) {
        giveSlots(sab, held);
        throw new CvError('CANCELLED', 'copy cancelled');
      }
      const w = waitAsync(cells, COUNT + i, n, POLL_MS);
      if (w.async) await w.value;
    }
  }
}

/** Gives back the slots takeSlots took, waking the workers waiting for them. */
export function giveSlots(sab: SharedArrayBuffer, indices: readonly number[]): void {
  const cells = new Int32Array(sab);
  for (const i of indices) {
    Atomics.sub(cells, COUNT + i, 1);
    Atomics.notify(cells, COUNT + i);
  }
}

/**
 * Runs `create` (a file or directory being made) holding one of the disk's create slots, of which
 * there are `--create-concurrency` (PIPELINE_DEFAULTS.createConcurrency, 1: why, measured, beside
 * it). Synchronous: a worker's file work is, and a create holds its slot for tens of microseconds.
 */
export function holdCreate<T>(sab: SharedArrayBuffer, index: number | undefined, create: () => T): T {
  if (index === undefined) return create();
  const cells = new Int32Array(sab);
  const limit = Atomics.load(cells, CREATE_LIMIT + index);
  for (;;) {
    const n = Atomics.load(cells, CREATE + index);
    if (n >= limit) Atomics.wait(cells, CREATE + index, n, POLL_MS);
    else if (Atomics.compareExchange(cells, CREATE + index, n, n + 1) === n) break;
  }
  try {
    return create();
  } finally {
    Atomics.sub(cells, CREATE + index, 1);
    Atomics.notify(cells, CREATE + index, 1);
  }
}
