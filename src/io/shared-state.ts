/**
 * State shared by the main thread and every copy worker through SharedArrayBuffers.
 * A SharedArrayBuffer passed in workerData (or inside a task) is shared, not copied, so a flag set
 * in the main thread is seen by a worker at its next check, without any message round trip.
 */

/** A cooperative stop flag: workers check it between blocks; nothing is ever killed. */
export class CancelFlag {
  private readonly word: Int32Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.word = new Int32Array(sab, 0, 1);
  }

  set(): void {
    Atomics.store(this.word, 0, 1);
  }

  get isSet(): boolean {
    return Atomics.load(this.word, 0) !== 0;
  }
}

/** A byte counter every worker adds to after each block; the main thread samples it for progress. */
export class ByteCounter {
  private readonly cell: BigInt64Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cell = new BigInt64Array(sab, 0, 1);
  }

  add(bytes: number): void {
    Atomics.add(this.cell, 0, BigInt(bytes));
  }

  get value(): number {
    return Number(Atomics.load(this.cell, 0));
  }
}

/** What the pipeline hands every worker through piscina's workerData. */
export interface WorkerShared {
  cancel: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  throttle: SharedArrayBuffer;
  /** The per-disk slots (disk-slots.ts). */
  slots: SharedArrayBuffer;
  blockSize: number;
  /** Module task URLs imported at boot (CopyPipelineOptions.preload). */
  preload?: string[];
}
