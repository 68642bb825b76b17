import type { StageIo } from './device-busy.js';

/** One operation of one sample: how long it took and what bound it. */
export interface OpSample {
  seconds: number;
  mbPerSec: number;
  cpuSeconds: number | null;
  io: StageIo | null;
}

export type PlanOp = 'backup' | 'check' | 'restore';
export const PLAN_OPS: readonly PlanOp[] = ['backup', 'check', 'restore'];

export interface Sample {
  /** Size asked for and bytes actually generated (three tables, two databases). */
  sizeBytes: number;
  bytes: number;
  files: number;
  dates: number;
  rowsPerSymbol: number;
  ops: Record<PlanOp, OpSample>;
}

export interface Projection {
  op: PlanOp;
  /** Seconds at the target: the fitted line a + b × bytes. */
  seconds: number;
  low: number;
  high: number;
  mbPerSec: number;
  /** The fit: fixed seconds and seconds per GB (10^9 bytes) of the marginal cost. */
  fixedSeconds: number;
  secondsPerGB: number;
  /** The floor the disks set (bytes ÷ the limit), when known. */
  diskFloorSeconds: number | null;
  bound: string;
}

/**
 * The noise band around a projection: single runs of the same command on this kind of machine
 * varied by up to ±11% (docs/PERFORMANCE.md); emulated disks hold their rate within the device
 * check's tolerance, so what remains is the CPU's share, which neighbours disturb.
 */
export const NOISE = 0.12;

/** Least squares t = a + b·x over the samples (x in bytes). */
export function fitLine(points: { x: number; t: number }[]): { a: number; b: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const b = sxx > 0 ? points.reduce((s, p) => s + (p.x - mx) * (p.t - mt), 0) / sxx : 0;
  return { a: mt - b * mx, b };
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * Projects one operation to `target` bytes. Two readings of the samples bracket it: the fitted
 * line (fixed cost once, marginal cost per byte) and the largest sample's average rate (as if the
 * fixed cost grew with the data); the interval spans both, widened by NOISE, and never goes
 * below what the disks allow: target ÷ (limit × (1 + tolerance)), as the device check lets a disk
 * run that much faster. The point itself never beats target ÷ limit.
 *
 * Unless the largest sample was CPU-bound, the interval also reaches down to the disk floor: small
 * samples carry a tail that does not grow with the data (a restore's last group commit and flush),
 * which makes their slope steeper than a large run's. Session 8's quiet plan: restore samples of
 * 1.18 s (0.5 GB) and 2.35 s (1 GB) put the line at 10.7 s for 4.56 GB and its low end at 9.37 s;
 * the run took 9.35 s, at the backup disk's rate.
 */
export function project(op: PlanOp, samples: Sample[], target: number, limitBytesPerSec: number | null, tolerance = 0): Projection {
  const pts = samples.map((s) => ({ x: s.bytes, t: s.ops[op].seconds }));
  const { a, b } = fitLine(pts);
  const largest = samples.reduce((m, s) => (s.bytes > m.bytes ? s : m));
  const avg = (largest.ops[op].seconds / largest.bytes) * target;
  // A slope at or below zero is noise between too-close samples: fall back to the average rate.
  const line = b > 0 ? a + b * target : avg;
  const floor = limitBytesPerSec ? target / limitBytesPerSec : null;
  const cpuBound = largest.ops[op].io?.bound.startsWith('CPU-bound') ?? false;
  const lowest = floor === null ? 0 : floor / (1 + tolerance);
  const low = cpuBound || floor === null ? Math.max(Math.min(line, avg) * (1 - NOISE), lowest) : lowest;
  const high = Math.max(Math.max(line, avg) * (1 + NOISE), floor ?? 0, low);
  const seconds = Math.min(Math.max(line, low, floor ?? 0), high);
  return {
    op,
    seconds: r3(seconds),
    low: r3(low),
    high: r3(high),
    mbPerSec: Math.round((target / 1e6 / seconds) * 10) / 10,
    fixedSeconds: r3(b > 0 ? a : 0),
    secondsPerGB: r3((b > 0 ? b : largest.ops[op].seconds / largest.bytes) * 1e9),
    diskFloorSeconds: floor === null ? null : r3(floor),
    bound: largest.ops[op].io?.bound ?? 'unknown: no disk or CPU figures were taken',
  };
}

/** One sentence: the resource that bound the most projected time. */
export function bottleneckOf(projections: Projection[]): string {
  const worst = [...projections].sort((x, y) => y.seconds - x.seconds)[0];
  if (!worst) return 'unknown';
  const kinds = projections.map((p) => `${p.op}: ${p.bound.split(':')[0]}`).join('; ');
  return `${worst.op} takes longest and is ${worst.bound} (${kinds})`;
}
