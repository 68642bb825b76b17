import fs from 'node:fs';
import path from 'node:path';
import { formatBytes, mbPerSec } from '../common/units.js';
import { isS3Url } from '../engine/index.js';
import { backupAll, cvRun, parse, restoreAll, tune, type BenchContext } from './bench-context.js';
import { initHome, removeHome } from './bench-layout.js';
import { addRuns, type ChildRun } from './measure.js';

/** What the later phases of a repetition need from its full backup. */
export interface BackupOutcome {
  ok: boolean;
  bytes: number;
}

/** Phases `backup` and `incremental-backup`: a fresh full backup, then the same again with nothing changed. */
async function backupPhases(ctx: BenchContext, bak: string, tag: string): Promise<BackupOutcome> {
  const { mainWorkers: w, mainDc: d, log } = ctx;
  if (!isS3Url(bak)) fs.rmSync(bak, { recursive: true, force: true });
  const full = ctx.phases.get('backup', `chunkvault backup-db (both databases) ${tune(w, d).join(' ')}`);
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
  const inc = ctx.phases.get('incremental-backup', 'chunkvault backup-db again, nothing changed');
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

/** Phase `check`: re-hash the fresh backup of every database. */
async function checkPhase(ctx: BenchContext, bak: string, tag: string, full: BackupOutcome): Promise<void> {
  const chk = ctx.phases.get('check', 'chunkvault check (both databases)');
  if (!ctx.checkHelp) return chk.skip('this build has no `check` command');
  if (!full.ok) return chk.skip('full backup failed');
  try {
    const runs: ChildRun[] = [];
    let bad = 0, checked = 0, engine = 0;
    for (const db of ctx.dbs) {
      // exit 8 (bad chunks) throws here: a fresh backup must check clean.
      // check runs with its own defaults (one worker per core: it is CPU-bound, copies are not).
      ctx.stage = 'check';
      const r = await cvRun(ctx, ctx.layout.home, ['check', bak, db]).finally(() => (ctx.stage = undefined));
      const j = parse<{ bad?: unknown[]; bytesChecked?: number; seconds?: number }>(r);
      bad += j.bad?.length ?? 0;
      checked += j.bytesChecked ?? 0;
      engine += j.seconds ?? 0;
      runs.push(r);
    }
    const bytes = checked || full.bytes;
    const run = addRuns(runs);
    chk.add(run, bytes, { badChunks: bad, engineSeconds: engine });
    ctx.log(`check ${tag}: ${run.seconds.toFixed(2)} s (${mbPerSec(bytes, run.seconds)} MB/s)`);
  } catch (err) {
    chk.fail(err);
  }
}

/** Phases `restore` and `incremental-restore`: into a new database of a fresh home, then the same again. */
async function restorePhases(ctx: BenchContext, bak: string, tag: string, full: BackupOutcome): Promise<void> {
  const { mainWorkers: w, mainDc: d, log } = ctx;
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
