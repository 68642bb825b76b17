/**
 * Turns a growing byte count into what an operator wants to see: bytes, MB/s over a sliding
 * window (so a stall shows up within seconds, unlike a run-wide average) and an ETA.
 */
export interface ProgressSample {
  bytes: number;
  /** 10^6 bytes per second over the window. */
  mbPerSec: number;
  /** Seconds left at the windowed rate; undefined when no total is known or nothing moves. */
  etaSec?: number;
  /** 0..1 when a total is known. */
  fraction?: number;
}

export class ProgressMeter {
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(
    private readonly read: () => number,
    private readonly total?: number,
    private readonly windowMs = 3000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  sample(): ProgressSample {
    const t = this.clock();
    const bytes = this.read();
    this.samples.push({ t, bytes });
    // Keep one sample older than the window so the rate always spans the whole window.
    while (this.samples.length > 2 && this.samples[1]!.t <= t - this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const secs = (t - first.t) / 1000;
    const rate = secs > 0 ? (bytes - first.bytes) / secs : 0;
    const out: ProgressSample = { bytes, mbPerSec: Math.round((rate / 1e6) * 10) / 10 };
    if (this.total !== undefined) {
      out.fraction = this.total > 0 ? Math.min(1, bytes / this.total) : 1;
      if (rate > 0) out.etaSec = Math.max(0, (this.total - bytes) / rate);
      else if (bytes >= this.total) out.etaSec = 0;
    }
    return out;
  }
}
