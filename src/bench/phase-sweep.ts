import path from 'node:path';
import { backupAll, restoreAll, type BenchContext } from './bench-context.js';
import { initHome, removeHome } from './bench-layout.js';
import type { RunSample } from './measure.js';
import { summarize } from './phase-record.js';
import type { SweepCell } from './result.js';
import { discard } from './discard.js';

/** One cell of the sweep: `repeat` backups (and restores, where the build has restore-db) at w workers × d. */
async function sweepCell(ctx: BenchContext, sbak: string, w: number, d: number): Promise<SweepCell> {
  const bRuns: RunSample[] = [];
  const rRuns: RunSample[] = [];
  let bytes = 0;
  for (let rep = 1; rep <= ctx.o.repeat; rep++) {
    discard(sbak);
    const b = await backupAll(ctx, sbak, w, d);
    bytes = b.bytes;
    bRuns.push(b.run);
    if (ctx.restoreHelp) {
      const rh = path.join(ctx.work, 'sweep-home');
      initHome(rh, ctx.layout.restoreVolumes('sweep'));
      try {
        rRuns.push((await restoreAll(ctx, sbak, rh, w, d)).run);
      } finally {
        removeHome(ctx.layout, rh, 'sweep');
      }
    }
  }
  return { workers: w, diskConcurrency: d, backup: summarize(bRuns, bytes), restore: rRuns.length ? summarize(rRuns, bytes) : null };
}

/** Phase `sweep`: workers × disk concurrency, run only when either option lists more than one value. */
export async function runSweepPhase(ctx: BenchContext): Promise<SweepCell[]> {
  const sweep: SweepCell[] = [];
  if (ctx.o.workers.length <= 1 && ctx.o.diskConcurrency.length <= 1) return sweep;
  const sbak = path.join(ctx.layout.backupRoot, 'sweep');
  for (const w of ctx.o.workers)
    for (const d of ctx.o.diskConcurrency) {
      try {
        const cell = await sweepCell(ctx, sbak, w, d);
        sweep.push(cell);
        ctx.log(`sweep workers=${w} disk-concurrency=${d}: backup ${cell.backup?.mbPerSec} MB/s${cell.restore ? `, restore ${cell.restore.mbPerSec} MB/s` : ''}`);
      } catch (err) {
        sweep.push({ workers: w, diskConcurrency: d, backup: null, restore: null });
        ctx.notes.push(`sweep cell workers=${w} disk-concurrency=${d} failed: ${(err as Error).message}`);
      }
    }
  discard(sbak);
  return sweep;
}
