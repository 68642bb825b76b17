import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../common/durable.js';
import { backupAll, restoreAll, type BenchContext } from './bench-context.js';
import { initHome, removeHome } from './bench-layout.js';
import type { StageIo } from './device-busy.js';
import { summarize } from './phase-record.js';
import type { Summary } from './result.js';
import { discard } from './discard.js';

/**
 * Per-disk queues against one global queue of the same total depth, on emulated disks. Per-disk:
 * each of the V volume disks has its own queue of d slots (V × d in all on the volume side).
 * Global: every volume is given ONE disk name, so they share one queue of V × d slots. In both,
 * the backup directory's disk is its own queue (the engine names it by st_dev), with d slots
 * per-disk and V × d global: the backup disk is then part of what differs, and the busy figures
 * show where the time went.
 */
export interface QueueCell {
  mode: 'per-disk' | 'global';
  workers: number;
  /** Slots of each queue. */
  diskConcurrency: number;
  /** Slots on the volume side in all: the same for the two modes at one d. */
  volumeDepth: number;
  backup: Summary | null;
  restore: Summary | null;
  backupIo: StageIo | null;
  restoreIo: StageIo | null;
}

export const GLOBAL_DISK = 'all-volumes';

/** A copy of the cluster home whose volumes all carry one disk name (the data stays where it is). */
function globalHome(ctx: BenchContext): string {
  const gh = path.join(ctx.work, 'global-home');
  discard(gh);
  fs.cpSync(ctx.layout.home, gh, { recursive: true });
  const file = path.join(gh, 'cluster.json');
  const cfg = readJson<{ nodes: { volumes: { path: string; disk?: string }[] }[] }>(file);
  for (const n of cfg.nodes) for (const v of n.volumes) v.disk = GLOBAL_DISK;
  writeJsonAtomic(file, cfg);
  return gh;
}

async function cell(ctx: BenchContext, mode: QueueCell['mode'], d: number, volumes: number): Promise<QueueCell> {
  const w = ctx.mainWorkers;
  const dc = mode === 'global' ? d * volumes : d;
  const home = mode === 'global' ? globalHome(ctx) : ctx.layout.home;
  const sbak = path.join(ctx.layout.backupRoot, 'queues');
  const tag = `${mode} d=${d}`;
  discard(sbak);
  const at: BenchContext = { ...ctx, layout: { ...ctx.layout, home }, stage: `queues backup ${tag}` };
  const b = await backupAll(at, sbak, w, dc);
  const rh = path.join(ctx.work, 'queues-home');
  initHome(rh, ctx.layout.restoreVolumes('queues'), mode === 'global' ? GLOBAL_DISK : undefined);
  at.stage = `queues restore ${tag}`;
  const r = await restoreAll(at, sbak, rh, w, dc);
  removeHome(ctx.layout, rh, 'queues');
  discard(sbak);
  if (mode === 'global') discard(home);
  return {
    mode,
    workers: w,
    diskConcurrency: dc,
    volumeDepth: d * volumes,
    backup: summarize([b.run], b.bytes),
    restore: summarize([r.run], r.bytes || b.bytes),
    backupIo: ctx.io?.stage(`queues backup ${tag}`, b.bytes) ?? null,
    restoreIo: ctx.io?.stage(`queues restore ${tag}`, r.bytes || b.bytes) ?? null,
  };
}

/** Phase `queues`: emulated disks with more than one volume disk, when --disk-concurrency lists values. */
export async function runQueuePhase(ctx: BenchContext): Promise<QueueCell[]> {
  const volumes = ctx.layout.emulated?.disks.filter((x) => x.role === 'volume').length ?? 0;
  if (volumes < 2 || ctx.o.diskConcurrency.length <= 1) return [];
  const out: QueueCell[] = [];
  for (const d of ctx.o.diskConcurrency)
    for (const mode of ['per-disk', 'global'] as const) {
      try {
        const c = await cell(ctx, mode, d, volumes);
        out.push(c);
        ctx.log(`queues ${mode} d=${d} (volume depth ${c.volumeDepth}): backup ${c.backup?.mbPerSec} MB/s, restore ${c.restore?.mbPerSec} MB/s`);
      } catch (err) {
        ctx.notes.push(`queue cell ${mode} d=${d} failed: ${(err as Error).message}`);
      }
    }
  return out;
}
