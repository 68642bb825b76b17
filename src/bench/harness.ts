import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bytesPerDate } from '../generate/generate.js';
import { QUOTES_DBS } from '../generate/quotes.js';
import { PIPELINE_DEFAULTS } from '../io/index.js';
import { computeGoals, computeRatios, type DeviceRoles } from './analysis.js';
import { commandHelp, type BenchContext } from './bench-context.js';
import { checkSpace, devOf, initHome, makeLayout } from './bench-layout.js';
import { datasetShape, type BenchOptions, type DatasetShape } from './bench-options.js';
import type { DeviceLimit } from './device-limit.js';
import { IoBook } from './device-busy.js';
import { emulationGoals, type EmulationReport } from './emulation-report.js';
import { describeMachine } from './machine.js';
import { dropCaches } from './measure.js';
import { runBaselinePhases } from './phase-baselines.js';
import { runChunkvaultPhases } from './phase-chunkvault.js';
import { runDataioPhases } from './phase-dataio.js';
import { runDevicePhase } from './phase-device.js';
import { runDeviceCheck, type DeviceCheck } from './phase-device-check.js';
import { runQueuePhase, type QueueCell } from './phase-queues.js';
import { runGeneratePhase, type GeneratedData } from './phase-generate.js';
import { PhaseBook } from './phase-record.js';
import { runScalePhase } from './phase-scale.js';
import { removeS3Run, runS3Phases, s3Goals, s3Ratios, s3RunRoot } from './phase-s3.js';
import { stopWatchingGateway, watchGateway } from './gateway-cpu.js';
import { isS3Url } from '../engine/index.js';
import { runVariantPhases } from './phase-variants.js';
import { runSweepPhase } from './phase-sweep.js';
import { writeReport } from './report.js';
import { RESULT_SCHEMA, type BenchResult, type SweepCell } from './result.js';
import { emptyDiscarded } from './discard.js';

export { datasetShape, type BenchOptions } from './bench-options.js';

/** Fails before anything is written when the disks cannot hold the data, its restores and backups. */
function checkFreeSpace(o: BenchOptions, estBytes: number): void {
  const sameFs = !o.backupDir || isS3Url(o.backupDir) || devOf(o.backupDir) === devOf(o.home ?? os.tmpdir());
  checkSpace(o.home ?? os.tmpdir(), Math.ceil(estBytes * (sameFs || o.devices ? 4.5 : 2.3)) + (1 << 30), 'data, restores and backups');
  if (!sameFs) checkSpace(o.backupDir!, Math.ceil(estBytes * 2.3) + (1 << 30), 'backups and baseline copies');
}

function localOnly(o: BenchOptions): BenchOptions {
  const { backupDir: _, ...rest } = o;
  return rest;
}

/** The context every phase shares; the homes and the CLI's help are filled in once the run starts. */
function makeContext(o: BenchOptions, work: string, estBytes: number): BenchContext {
  const log = o.log ?? ((s: string) => process.stderr.write(`[bench] ${s}\n`));
  const notes: string[] = [];
  const copy = PIPELINE_DEFAULTS.copy;
  // The main phases use the copy defaults when the sweep includes them, and the restores then theirs.
  const mainWorkers = o.workers.includes(copy.workers) ? copy.workers : o.workers[0]!;
  return {
    o,
    log,
    work,
    // An S3 backup dir holds only the backups: baseline copies and restores stay beside the homes.
    layout: makeLayout(isS3Url(o.backupDir ?? '') ? localOnly(o) : o, work, log, estBytes, notes),
    dbs: QUOTES_DBS.map((d) => d.dbPath),
    mainWorkers,
    mainRestoreWorkers: mainWorkers === copy.workers ? undefined : mainWorkers,
    mainDc: o.diskConcurrency.includes(copy.diskConcurrency) ? copy.diskConcurrency : o.diskConcurrency[0]!,
    restoreHelp: null,
    checkHelp: null,
    phases: new PhaseBook('chunkvault'),
    baselines: new PhaseBook('chunkvault'),
    notes,
  };
}

interface Measured {
  startedAt: string;
  cold: boolean;
  shape: DatasetShape;
  data: GeneratedData;
  device: { limits: DeviceLimit[]; devs: DeviceRoles };
  sweep: SweepCell[];
  checks?: DeviceCheck[];
  queues?: QueueCell[];
}

/** The emulation section of the result: how the disks were made, their check, what bound each stage. */
function emulationOf(ctx: BenchContext, m: Measured, phases: BenchResult['phases']): EmulationReport | undefined {
  const em = ctx.layout.emulated;
  if (!em) return undefined;
  const stages = ['backup', 'check', 'restore'].flatMap((n) => {
    const p = phases.find((x) => x.name === n);
    const s = p?.status === 'ok' ? ctx.io?.stage(n, p.bytes * p.runs.length) : null;
    return s ? [s] : [];
  });
  const disks = em.disks.map((d) => ({ role: d.role, device: d.device, dev: d.dev, mbPerSec: d.bytesPerSec / 1e6, iops: d.iops, sizeBytes: d.sizeBytes }));
  return { spec: em.spec.text, description: em.description, backing: em.backing, fs: em.spec.fs, disks, checks: m.checks ?? [], cleanedLeftovers: em.cleanedLeftovers, stages, queues: m.queues ?? [] };
}

/** The result file's content: the phases' records, ratios and goals, and what they ran on. */
function assembleResult(ctx: BenchContext, m: Measured): BenchResult {
  const { o, layout, notes } = ctx;
  const phaseList = ctx.phases.finish();
  const baseList = ctx.baselines.finish();
  const s3 = isS3Url(o.backupDir ?? '');
  const ratios = [...computeRatios(phaseList, baseList, m.device.limits, m.device.devs), ...(s3 ? s3Ratios(phaseList, baseList) : [])];
  const emulation = emulationOf(ctx, m, phaseList);
  const machine = describeMachine([...layout.volumes.map((v) => ({ role: 'volume', path: v })), { role: 'backup', path: layout.backupRoot }]);
  if (machine.cpus <= 2) notes.push(`${machine.cpus} CPU(s): hashing and copying compete for the same cores as the baselines' kernel work; see docs/PERFORMANCE.md.`);
  if (s3) notes.push(`S3 phases against ${o.backupDir}: rclone copy and restic (s3: repository) move the same volumes to the same endpoint; "gateway" is the CPU of radosgw and ceph-osd on this host (null when the endpoint is elsewhere).`);
  else notes.push('cp and rsync copy the volumes to the backup device; backup and restore are both compared with that one direction. rsync -a runs without --checksum (it compares size and mtime; a fresh copy reads and writes everything); chunkvault always hashes with xxh3.');
  return {
    schema: RESULT_SCHEMA,
    label: o.label,
    startedAt: m.startedAt,
    finishedAt: new Date().toISOString(),
    argv: o.argv ?? [],
    options: { sizeBytes: o.size, repeat: o.repeat, workers: o.workers, diskConcurrency: o.diskConcurrency, mainWorkers: ctx.mainWorkers, mainRestoreWorkers: ctx.mainRestoreWorkers ?? null, mainDiskConcurrency: ctx.mainDc, baselines: o.baselines, devices: o.devices },
    machine,
    cache: m.cold ? 'cold' : 'warm',
    layout: { kind: layout.kind, volumes: layout.volumes, backupDir: layout.backupRoot, ...(layout.note ? { note: layout.note } : {}) },
    dataset: { ...m.data.dataset, databases: ctx.dbs, tables: QUOTES_DBS.reduce((a, d) => a + d.tables.length, 0), partitionsPerTable: m.data.partitionsPerTable, ...m.shape },
    deviceLimits: m.device.limits,
    phases: phaseList,
    baselines: baseList,
    ratios,
    goals: s3 ? s3Goals(ratios) : [...computeGoals(phaseList, ratios), ...(emulation ? emulationGoals(ratios) : [])],
    sweep: m.sweep,
    notes,
    ...(emulation ? { emulation } : {}),
  };
}

/** The S3 run: per repetition chunkvault against the bucket and its baselines; no device, sweep or scale phases. */
async function s3Phases(ctx: BenchContext, url: string, m: Pick<Measured, 'shape' | 'data'>): Promise<Omit<Measured, 'startedAt' | 'cold'>> {
  if (!watchGateway()) ctx.notes.push('No radosgw or ceph-osd process on this host: the gateway CPU is not measured.');
  try {
    for (let rep = 1; rep <= ctx.o.repeat; rep++) await runS3Phases(ctx, url, rep, `run ${rep}/${ctx.o.repeat}`, m.data.dataset.bytes);
  } finally {
    stopWatchingGateway();
  }
  return { ...m, device: { limits: [], devs: { volumes: [], backup: '' } }, sweep: [] };
}

/** Every phase in order: generate, device, then per repetition chunkvault and the baselines, then sweep and scale. */
async function runPhases(ctx: BenchContext, shape: DatasetShape, estBytes: number): Promise<Omit<Measured, 'startedAt' | 'cold'>> {
  const { layout, o } = ctx;
  initHome(layout.home, layout.volumes);
  fs.mkdirSync(layout.backupRoot, { recursive: true });
  ctx.restoreHelp = await commandHelp(layout.home, 'restore-db');
  ctx.checkHelp = await commandHelp(layout.home, 'check');
  const em = layout.emulated;
  // Emulated disks are checked before anything is timed; a failed check throws (no report).
  const checked = em ? await runDeviceCheck(em, ctx.log, o.deviceTestBytes, o.deviceTolerance) : undefined;
  if (em) ctx.io = new IoBook(em.disks.map((d) => ({ role: d.role, name: d.device.replace('/dev/', ''), readLimitMbPerSec: d.bytesPerSec / 1e6, writeLimitMbPerSec: d.bytesPerSec / 1e6 })));
  const data = await runGeneratePhase(ctx, shape, estBytes);
  if (o.only === 'dataio') {
    // Only load and export (and the plain read of the CSV they are measured against).
    for (let rep = 1; rep <= o.repeat; rep++) await runDataioPhases(ctx, `run ${rep}/${o.repeat}`);
    return { shape, data, device: { limits: [], devs: { volumes: [], backup: '' } }, sweep: [] };
  }
  if (isS3Url(o.backupDir ?? '')) return s3Phases(ctx, o.backupDir!, { shape, data });
  const device = checked ?? (await runDevicePhase(ctx, data.dataset.bytes));
  const bak = path.join(layout.backupRoot, 'chunkvault');
  for (let rep = 1; rep <= o.repeat; rep++) {
    const tag = `run ${rep}/${o.repeat}`;
    const full = await runChunkvaultPhases(ctx, bak, tag);
    await runBaselinePhases(ctx, bak, full.ok, tag, data.dataset.bytes);
    if (o.repoVariants?.length) await runVariantPhases(ctx, o.repoVariants, tag);
    if (o.dataio !== false) await runDataioPhases(ctx, tag);
  }
  const sweep = await runSweepPhase(ctx);
  const queues = await runQueuePhase(ctx);
  await runScalePhase(ctx);
  return { shape, data, device: { limits: device.limits, devs: device.devs }, sweep, ...(checked ? { checks: checked.checks, queues } : {}) };
}

/** Runs the whole benchmark and writes the report files; returns the result and their paths. */
export async function runBench(o: BenchOptions): Promise<{ result: BenchResult; files: { json: string; md: string; svg: string } }> {
  const startedAt = new Date().toISOString();
  const stamp = startedAt.replace(/[:.]/g, '-');
  const work = path.join(path.resolve(o.home ?? os.tmpdir()), `cv-bench-${stamp}`);
  const shape = datasetShape(o);
  const estBytes = shape.dates * bytesPerDate(shape.symbols, shape.rowsPerSymbol);
  checkFreeSpace(o, estBytes);
  fs.mkdirSync(work, { recursive: true });
  const ctx = makeContext(o, work, estBytes);
  const cold = dropCaches();
  if (!cold) ctx.notes.push('WARM CACHE: could not drop the page cache (needs root); every figure may include reads served from memory.');
  try {
    const measured = await runPhases(ctx, shape, estBytes);
    const result = assembleResult(ctx, { startedAt, cold, ...measured });
    return { result, files: writeReport(result, o.out) };
  } finally {
    emptyDiscarded();
    ctx.layout.loops?.cleanup();
    ctx.layout.emulated?.cleanup();
    if (o.keep) ctx.log(`kept ${work}${ctx.layout.loops ? ' (the loop devices and their contents were removed)' : ''}`);
    else {
      fs.rmSync(work, { recursive: true, force: true });
      if (o.backupDir && isS3Url(o.backupDir)) ctx.log(`removed ${removeS3Run(o.backupDir, work)} objects under ${s3RunRoot(o.backupDir, work)}`);
      else if (o.backupDir) fs.rmSync(path.join(path.resolve(o.backupDir), path.basename(work)), { recursive: true, force: true });
    }
  }
}
