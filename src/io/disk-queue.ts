/**
 * The copy pipeline uses this queue for how many tasks per disk it posts ahead (postAhead times
 * the limit); the limit itself is held by the workers (disk-slots.ts), with the same rules.
 * Per-disk concurrency, like DolphinDB's diskIOConcurrencyLevel: a task holds one slot on its
 * source disk and one on its target disk. When both are the same disk it holds ONE slot there:
 * the limit is "tasks touching this disk at once", and a same-disk copy is one task, so taking two
 * slots would halve same-disk throughput and could deadlock a limit of 1.
 * Slots are taken in sorted disk-id order and each semaphore is FIFO, so two tasks can never each
 * hold one disk while waiting for the other's (no cycle in the wait-for graph).
 */
class Semaphore {
  private inUse = 0;
  private readonly waiters: (() => void)[] = [];
  maxObserved = 0;

  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.inUse;
  }

  async acquire(): Promise<void> {
    if (this.inUse < this.limit && this.waiters.length === 0) this.take();
    else await new Promise<void>((resolve) => this.waiters.push(() => (this.take(), resolve())));
  }

  release(): void {
    this.inUse--;
    // Hand the slot over synchronously so a newcomer cannot jump the FIFO queue.
    const next = this.waiters.shift();
    if (next) next();
  }

  private take(): void {
    this.inUse++;
    if (this.inUse > this.maxObserved) this.maxObserved = this.inUse;
  }
}

export class DiskQueue {
  private readonly disks = new Map<string, Semaphore>();

  /** @param limitFor slots per disk: one number for all disks, or a function of the disk id. */
  constructor(private readonly limitFor: number | ((disk: string) => number)) {
    const probe = typeof limitFor === 'number' ? limitFor : 1;
    if (!Number.isInteger(probe) || probe < 1) throw new RangeError(`disk concurrency must be >= 1, got ${probe}`);
  }

  /** Waits for a slot on every distinct disk named; returns the release function (call once). */
  async acquire(disks: readonly string[]): Promise<() => void> {
    const ids = [...new Set(disks)].sort();
    const held: Semaphore[] = [];
    for (const id of ids) {
      const s = this.sem(id);
      await s.acquire();
      held.push(s);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const s of held.reverse()) s.release();
    };
  }

  /** Runs `fn` holding slots on `disks`. */
  async run<T>(disks: readonly string[], fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(disks);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** The most tasks ever seen holding a slot on `disk` at once (0 if never used). */
  maxInFlight(disk: string): number {
    return this.disks.get(disk)?.maxObserved ?? 0;
  }

  inFlight(disk: string): number {
    return this.disks.get(disk)?.inFlight ?? 0;
  }

  private sem(id: string): Semaphore {
    let s = this.disks.get(id);
    if (!s) {
      const limit = typeof this.limitFor === 'number' ? this.limitFor : this.limitFor(id);
      if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`disk concurrency for ${id} must be >= 1, got ${limit}`);
      s = new Semaphore(limit);
      this.disks.set(id, s);
    }
    return s;
  }
}
