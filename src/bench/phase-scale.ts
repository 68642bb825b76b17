import fs from 'node:fs';
import path from 'node:path';
import { backupAll, cvRun, type BenchContext } from './bench-context.js';
import { initHome, removeHome } from './bench-layout.js';
import type { Phase } from './phase-record.js';

/** One timed no-change backup-all of every database in the scale home. */
async function timedRepeat(ctx: BenchContext, scale: Phase, sh: string, sbak: string, rep: number): Promise<void> {
  const b = await backupAll({ ...ctx, layout: { ...ctx.layout, home: sh } }, sbak, ctx.mainWorkers, ctx.mainDc);
  scale.add(b.run, 0, b.detail);
  ctx.log(`incremental backup of ${b.detail.partitionsSkipped} table-partitions ${rep}/${ctx.o.repeat}: ${b.run.seconds.toFixed(3)} s (engine ${b.detail.engineSeconds.toFixed(3)} s)`);
}

/**
 * Phase `incremental-backup-500`: the no-change incremental backup at the tutorial's partition
 * count, on a separate small data set so the cost of planning shows rather than the bytes.
 */
export async function runScalePhase(ctx: BenchContext): Promise<void> {
  const scale = ctx.phases.get('incremental-backup-500', 'chunkvault backup-all again over 500 partitions × 3 tables, nothing changed, one process');
  if (!ctx.o.scale) return scale.skip('not requested (--no-scale)');
  const sh = path.join(ctx.work, 'scale-home');
  const sbak = path.join(ctx.layout.backupRoot, 'scale');
  try {
    initHome(sh, ctx.layout.restoreVolumes('scale'));
    ctx.log('incremental at scale: generating 100 dates × 500 symbols × 1 row (500 partitions per table) and a first backup; this is not timed');
    await cvRun(ctx, sh, ['generate', '--dates', '100', '--symbols', '500', '--rows-per-symbol', '1']);
    await backupAll({ ...ctx, layout: { ...ctx.layout, home: sh } }, sbak, ctx.mainWorkers, ctx.mainDc);
    for (let rep = 1; rep <= ctx.o.repeat; rep++) await timedRepeat(ctx, scale, sh, sbak, rep);
  } catch (err) {
    scale.fail(err);
  } finally {
    fs.rmSync(sbak, { recursive: true, force: true });
    removeHome(ctx.layout, sh, 'scale');
  }
}
