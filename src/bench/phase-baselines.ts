import path from 'node:path';
import { mbPerSec } from '../common/units.js';
import type { BenchContext } from './bench-context.js';
import { walk } from './bench-layout.js';
import { BASELINES, baselineUnavailable, resticInit, runCp, runPlainRead, runResticBackup, runResticRestore, runRsync, type BaselineName } from './baselines.js';
import type { Phase } from './phase-record.js';
import { discard } from './discard.js';

const COMMANDS: Record<string, string> = {
  cp: 'cp -r <volumes> <dst> && sync -f <dst>',
  rsync: 'rsync -a <volumes> <dst>/ && sync -f <dst>',
  'restic-backup': 'restic backup <volumes> (local repo) && sync',
  'restic-restore': 'restic restore latest --target <dir> && sync',
};

/** Phase `plain-read`: reading every file of chunkvault's backup, the floor for check and restore. */
async function plainReadPhase(ctx: BenchContext, bak: string, backupOk: boolean): Promise<void> {
  const plain = ctx.baselines.get('plain-read', 'find <backup> -type f | xargs cat > /dev/null', 'cat');
  if (!backupOk) return plain.skip('no backup to read');
  try {
    plain.add(await runPlainRead(bak), walk(bak).bytes);
  } catch (err) {
    plain.fail(err);
  }
}

/** Runs one tool over the volumes, adding a run to each of its records (restic has two: backup, restore). */
async function runTool(ctx: BenchContext, name: BaselineName, ms: Phase[], datasetBytes: number): Promise<void> {
  const { layout, work } = ctx;
  const dst = path.join(layout.backupRoot, name);
  if (name === 'cp') ms[0]!.add(await runCp(layout.volumes, dst), datasetBytes);
  if (name === 'rsync') ms[0]!.add(await runRsync(layout.volumes, dst), datasetBytes);
  if (name === 'restic') {
    const repo = await resticInit(path.join(layout.backupRoot, 'restic-repo'), path.join(work, 'restic-cache'));
    ms[0]!.add(await runResticBackup(repo, layout.volumes), datasetBytes, { repoBytes: walk(repo.repo).bytes });
    ms[1]!.add(await runResticRestore(repo, layout.resticTarget), datasetBytes);
  }
}

/** Phase `baselines`: cp, rsync and restic over the same files, each skipped with its reason when not run. */
async function toolPhases(ctx: BenchContext, tag: string, datasetBytes: number): Promise<void> {
  const { layout, work, log } = ctx;
  for (const name of BASELINES) {
    const wanted = ctx.o.baselines.includes(name);
    const why = wanted ? baselineUnavailable(name) : 'not requested (--baselines)';
    const names = name === 'restic' ? ['restic-backup', 'restic-restore'] : [name];
    const ms = names.map((n) => ctx.baselines.get(n, COMMANDS[n]!, name));
    if (why) {
      ms.forEach((m) => m.skip(why));
      continue;
    }
    try {
      await runTool(ctx, name, ms, datasetBytes);
      for (const m of ms) log(`${m.m.name} ${tag}: ${m.m.runs.at(-1)!.seconds.toFixed(2)} s (${mbPerSec(datasetBytes, m.m.runs.at(-1)!.seconds)} MB/s)`);
    } catch (err) {
      ms.forEach((m) => m.fail(err));
      log(`${name} failed: ${(err as Error).message}`);
    } finally {
      for (const p of [path.join(layout.backupRoot, name), path.join(layout.backupRoot, 'restic-repo'), layout.resticTarget, path.join(work, 'restic-cache')]) discard(p);
    }
  }
}

/** One repetition of the baselines over the same files chunkvault just backed up. */
export async function runBaselinePhases(ctx: BenchContext, bak: string, backupOk: boolean, tag: string, datasetBytes: number): Promise<void> {
  await plainReadPhase(ctx, bak, backupOk);
  await toolPhases(ctx, tag, datasetBytes);
}
