/**
 * A rate limit shared by every worker thread: a virtual-scheduling token bucket in a
 * SharedArrayBuffer. Each caller reserves the next free time slot for its block with a CAS on
 * `nextFreeNs`, then sleeps until its slot starts. No thread owns the bucket, so there is no
 * message round trip per block, and N workers together stay under one global rate.
 *
 * Layout: BigInt64 [0] bytes per second (0 = unlimited), [1] next free time (ns, monotonic clock
 * shared by all threads of the process); Int32 [4] wake epoch, bumped by setRate()/wake() so
 * sleepers re-plan at once instead of finishing a sleep computed under the old rate.
 */
const RATE = 0;
const NEXT = 1;
const EPOCH = 4; // Int32 index: byte offset 16
/** Longest single sleep, so a cancel flag is seen within this even without wake(). */
const MAX_SLEEP_MS = 50;

const nowNs = (): bigint => process.hrtime.bigint();

export class Throttle {
  private readonly big: BigInt64Array;
  private readonly i32: Int32Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(24)) {
    this.big = new BigInt64Array(sab, 0, 2);
    this.i32 = new Int32Array(sab, 0, 6);
  }

  get rate(): number {
    return Number(Atomics.load(this.big, RATE));
  }

  /**
   * Changes the rate for every worker. Reservations made under the old rate are dropped (next free
   * time reset to now), so a raised rate applies at once and a lowered one within one block.
   */
  setRate(bytesPerSec: number): void {
    if (!Number.isFinite(bytesPerSec) || bytesPerSec < 0) throw new RangeError(`bad rate ${bytesPerSec}`);
    Atomics.store(this.big, RATE, BigInt(Math.floor(bytesPerSec)));
    Atomics.store(this.big, NEXT, nowNs());
    this.wake();
  }

  /** Wakes every sleeping worker so it re-checks the rate and its cancel flag. */
  wake(): void {
    Atomics.add(this.i32, EPOCH, 1);
    Atomics.notify(this.i32, EPOCH);
  }

  /**
   * Blocks the calling thread until `bytes` may be moved. Returns early (false) when `stop()` turns
   * true. Uses Atomics.wait, so it must not run on the main thread of a server; workers only
   * (tests call it from the main thread on purpose).
   */
  acquire(bytes: number, stop: () => boolean = () => false): boolean {
    for (;;) {
      if (stop()) return false;
      const rate = Atomics.load(this.big, RATE);
      if (rate <= 0n) return true;
      const epoch = Atomics.load(this.i32, EPOCH);
      const now = nowNs();
      const next = Atomics.load(this.big, NEXT);
      // An idle bucket earns no credit: a burst after a pause would break the limit.
      const start = next > now ? next : now;
      const end = start + (BigInt(bytes) * 1_000_000_000n) / rate;
      if (Atomics.compareExchange(this.big, NEXT, next, end) !== next) continue; // another thread won
      if (this.sleepUntil(start, epoch, stop)) return !stop();
      // The rate changed while we slept: our reservation was dropped; plan again.
    }
  }

  /** Sleeps until `when`; false if the epoch moved (re-plan), true when the time has come. */
  private sleepUntil(when: bigint, epoch: number, stop: () => boolean): boolean {
    for (;;) {
      const left = Number(when - nowNs()) / 1e6;
      if (left <= 0 || stop()) return true;
      Atomics.wait(this.i32, EPOCH, epoch, Math.min(left, MAX_SLEEP_MS));
      if (Atomics.load(this.i32, EPOCH) !== epoch) return false;
    }
  }
}
