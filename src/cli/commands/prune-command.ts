import type { Command } from 'commander';
import type { RetentionPolicy } from '../../engine/index.js';
import { prune } from '../../engine/points.js';
import { parseKeepCount } from '../../engine/retention.js';
import { action } from '../action.js';
import { printJson, printKeyValues, printTable } from '../output.js';

type PruneFlags = { maxUnused?: number; keepLast?: number; keepHourly?: number; keepDaily?: number; keepWeekly?: number; keepMonthly?: number; keepYearly?: number; keepWithin?: string; dryRun?: boolean };

const count = (name: string) => (v: string) => parseKeepCount(name, v);

/** The flags as a policy: only the rules given (restic's forget flags). */
export function policyOf(o: PruneFlags): RetentionPolicy {
  const p: RetentionPolicy = {};
  if (o.keepLast !== undefined) p.last = o.keepLast;
  if (o.keepHourly !== undefined) p.hourly = o.keepHourly;
  if (o.keepDaily !== undefined) p.daily = o.keepDaily;
  if (o.keepWeekly !== undefined) p.weekly = o.keepWeekly;
  if (o.keepMonthly !== undefined) p.monthly = o.keepMonthly;
  if (o.keepYearly !== undefined) p.yearly = o.keepYearly;
  if (o.keepWithin !== undefined) p.within = o.keepWithin;
  return p;
}

export function registerPrune(program: Command): void {
  program
    .command('prune <backupDir> <dbPath>')
    .description("apply a retention policy (restic's forget semantics): remove the restore points no rule keeps and the data no kept point references")
    .option('--keep-last <n>', 'keep the newest n points ("unlimited" keeps all)', count('--keep-last'))
    .option('--keep-hourly <n>', 'for the last n hours that have points, keep the newest point of each', count('--keep-hourly'))
    .option('--keep-daily <n>', 'for the last n days that have points, keep the newest point of each', count('--keep-daily'))
    .option('--keep-weekly <n>', 'for the last n ISO weeks that have points, keep the newest point of each', count('--keep-weekly'))
    .option('--keep-monthly <n>', 'for the last n months that have points, keep the newest point of each', count('--keep-monthly'))
    .option('--keep-yearly <n>', 'for the last n years that have points, keep the newest point of each', count('--keep-yearly'))
    .option('--keep-within <duration>', 'keep every point newer than this before the newest point, e.g. 7d, 1y5m7d2h (m = months)')
    .option('--dry-run', 'delete nothing: list each point, whether it would go, and why')
    .option('--max-unused <percent>', 'v2: repack partly used packs while unreferenced bytes exceed this share of all pack bytes (default 10)', Number)
    .action(
      action((ctx, dir: string, db: string, o: PruneFlags) => {
        const res = prune(dir, db, policyOf(o), { password: ctx.password, dryRun: !!o.dryRun, ...(o.maxUnused !== undefined ? { maxUnusedPercent: o.maxUnused } : {}) });
        if (ctx.json) return printJson(res);
        if (o.dryRun) {
          printTable(res.decisions.map((d) => ({ pointId: d.pointId, created: d.created, action: d.keep ? 'keep' : 'remove', why: d.reasons.join(', ') })));
          process.stdout.write(`dry run: would remove ${res.removedPoints.length} point(s), ${res.removedDataDirs} data directories and ${res.removedPacks} pack(s), and repack ${res.repackedPacks}; nothing was changed\n`);
        } else printKeyValues({ removedPoints: res.removedPoints.length, keptPoints: res.keptPoints.length, removedDataDirs: res.removedDataDirs, removedPacks: res.removedPacks, repackedPacks: res.repackedPacks, ...(res.abortedUploads !== undefined ? { abortedUploads: res.abortedUploads } : {}) });
      }),
    );
}
