import { describe, expect, it } from 'vitest';
import { fitLine, NOISE, project } from '../../dist/bench/plan-model.js';

const op = (seconds: number) => ({ seconds, mbPerSec: 0, cpuSeconds: null, io: null });
const sample = (gb: number, seconds: number) => ({ sizeBytes: gb * 1e9, bytes: gb * 1e9, files: 1, dates: 1, rowsPerSymbol: 1, ops: { backup: op(seconds), check: op(seconds), restore: op(seconds) } });

describe('plan projection', () => {
  it('fits a fixed cost plus a cost per byte through the samples', () => {
    const { a, b } = fitLine([{ x: 1e9, t: 3 }, { x: 2e9, t: 5 }, { x: 4e9, t: 9 }]);
    expect(a).toBeCloseTo(1, 9);
    expect(b * 1e9).toBeCloseTo(2, 9);
  });

  it('projects 2 s + 2 s/GB to 150 GB as 302 s, inside an interval from the line to the average rate widened by the noise band', () => {
    const p = project('backup', [sample(0.5, 3), sample(1, 4)], 150e9, null);
    expect(p.seconds).toBeCloseTo(302, 6);
    expect(p.low).toBeCloseTo(302 * (1 - NOISE), 6);
    expect(p.high).toBeCloseTo(600 * (1 + NOISE), 6); // 1 GB took 4 s: 150 GB at that average rate is 600 s
    expect(p.fixedSeconds).toBeCloseTo(2, 6);
    expect(p.secondsPerGB).toBeCloseTo(2, 6);
  });

  it('reaches down to the disk floor unless the largest sample was CPU-bound', () => {
    const io = (bound: string) => ({ bound }) as never;
    const slow = (gb: number, seconds: number, bound: string) => ({ ...sample(gb, seconds), ops: { backup: op(seconds), check: op(seconds), restore: { ...op(seconds), io: io(bound) } } });
    // session 8's restore samples: the line says 10.7 s at 4.56 GB; the disks allow 9.33 s (489 MB/s)
    const latency = project('restore', [slow(0.5, 1.18, 'neither a disk nor the CPU saturated'), slow(1, 2.35, 'neither a disk nor the CPU saturated')], 4.56e9, 489e6, 0.05);
    expect(latency.low).toBeCloseTo(4.56e9 / 489e6 / 1.05, 2);
    expect(latency.seconds).toBeGreaterThan(10);
    const cpu = project('restore', [slow(0.5, 1.18, 'CPU-bound: 1.9 CPU s per GB'), slow(1, 2.35, 'CPU-bound: 1.9 CPU s per GB')], 4.56e9, 489e6, 0.05);
    expect(cpu.low).toBeGreaterThan(9.3);
  });

  it('never projects faster than the disks allow', () => {
    const p = project('check', [sample(0.5, 0.5), sample(1, 0.9)], 150e9, 500e6);
    expect(p.diskFloorSeconds).toBe(300);
    expect(p.low).toBe(300);
    expect(p.seconds).toBeGreaterThanOrEqual(300);
    // a disk checked within ±5% may run 5% fast: the interval may start there, the point may not
    const t = project('check', [sample(0.5, 0.5), sample(1, 0.9)], 150e9, 500e6, 0.05);
    expect(t.low).toBeCloseTo(300 / 1.05, 2); // rounded to ms
    expect(t.seconds).toBe(300);
  });
});
