import path from 'node:path';
import { formatBytes, mbPerSec } from '../common/units.js';
import { isS3Url } from '../engine/index.js';
import { backupAll, checkAll, restoreAll, tune, type BenchContext } from './bench-context.js';
import { initHome, removeHome } from './bench-layout.js';
import { discard } from './discard.js';

/** What the later phases of a repetition need from its full backup. */
export interface BackupOutcome {
  ok: boolean;
  bytes: number;
}

/** Phases `backup` and `incremental-backup`: a fresh full backup, then the same again with nothing changed. */
async function backupPhases(ctx: BenchContext, bak: string, tag: string): Promise<BackupOutcome> {
  const { mainWorkers: w, mainDc: d, log } = ctx;
  if (!isS3Url(bak)) discard(bak);
  const full = ctx.phases.get('backup', `chunkvault backup-all (both databases, one process) ${tune(w, d).join(' ')}`);
  let backupBytes = 0;
  try {
    ctx.stage = 'backup';
    const b = await backupAll(ctx, bak, w, d).finally(() => (ctx.stage = undefined));
    backupBytes = b.bytes;
    full.add(b.run, b.bytes, b.detail);
    log(`backup ${tag}: ${formatBytes(b.bytes)} in ${b.run.seconds.toFixed(2)} s (${mbPerSec(b.bytes, b.run.seconds)} MB/s)`);
  } catch (err) {
    full.fail(err);
    log(`backup failed: ${(err as Error).message}`);
  }
  const inc = ctx.phases.get('incremental-backup', 'chunkvault backup-all again, nothing changed');
  if (!full.ok) inc.skip('full backup failed');
  else {
    try {
      const b = await backupAll(ctx, bak, w, d);
      inc.add(b.run, 0, b.detail);
      log(`incremental backup ${tag}: ${b.run.seconds.toFixed(3)} s, ${b.detail.partitionsCopied} partitions copied`);
    } catch (err) {
      inc.fail(err);
    }
  }
  return { ok: full.ok, bytes: backupBytes };
}

/** Phase `check`: re-hash the fresh backup of every database, in one process. */
async function checkPhase(ctx: BenchContext, bak: string, tag: string, full: BackupOutcome): Promise<void> {
  const chk = ctx.phases.get('check', 'chunkvault check of every database (both), one process');
  if (!ctx.checkHelp) return chk.skip('this build has no `check` command');
  if (!full.ok) return chk.skip('full backup failed');
  try {
    // exit 8 (bad chunks) throws in cvRun: a fresh backup must check clean.
    ctx.stage = 'check';
    const c = await checkAll(ctx, bak).finally(() => (ctx.stage = undefined));
    const bytes = c.bytes || full.bytes;
    chk.add(c.run, bytes, c.detail);
    ctx.log(`check ${tag}: ${c.run.seconds.toFixed(2)} s (${mbPerSec(bytes, c.run.seconds)} MB/s)`);
  } catch (err) {
    chk.fail(err);
  }
}

/** Phases `restore` and `incremental-restore`: into a new database of a fresh home, then the same again. */
async function restorePhases(ctx: BenchContext, bak: string, tag: string, full: BackupOutcome): Promise<void> {
  const { mainRestoreWorkers: w, mainDc: d, log } = ctx;
  const res = ctx.phases.get('restore', 'chunkvault migrate: every database of the backup into a fresh home, one process');
  const incRes = ctx.phases.get('incremental-restore', 'chunkvault restore-db of each database again, nothing changed');
  const why = !ctx.restoreHelp ? 'this build has no `restore-db` command' : !full.ok ? 'full backup failed' : null;
  if (why) {
    res.skip(why);
    incRes.skip(why);
    return;
  }
  const restoreHome = path.join(ctx.work, 'restore-home');
  try {
    initHome(restoreHome, ctx.layout.restoreVolumes('restore'));
    ctx.stage = 'restore';
    const r = await restoreAll(ctx, bak, restoreHome, w, d).finally(() => (ctx.stage = undefined));
    const bytes = r.bytes || full.bytes;
    res.add(r.run, bytes, r.detail);
    log(`restore ${tag}: ${r.run.seconds.toFixed(2)} s (${mbPerSec(bytes, r.run.seconds)} MB/s)`);
    try {
      const again = await restoreAll(ctx, bak, restoreHome, w, d, undefined, true);
      incRes.add(again.run, 0, again.detail);
      log(`incremental restore ${tag}: ${again.run.seconds.toFixed(3)} s`);
    } catch (err) {
      incRes.fail(err);
    }
  } catch (err) {
    res.fail(err);
    incRes.skip('restore failed');
    log(`restore failed: ${(err as Error).message}`);
  }
  removeHome(ctx.layout, restoreHome, 'restore');
}

/** One repetition of chunkvault's own phases over the generated data; returns how the full backup went. */
export async function runChunkvaultPhases(ctx: BenchContext, bak: string, tag: string): Promise<BackupOutcome> {
  const full = await backupPhases(ctx, bak, tag);
  await checkPhase(ctx, bak, tag, full);
  await restorePhases(ctx, bak, tag, full);
  return full;
}
