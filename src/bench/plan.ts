import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mbPerSec } from '../common/units.js';
import { bytesPerDate } from '../generate/generate.js';
import { QUOTES_DBS } from '../generate/quotes.js';
import { PIPELINE_DEFAULTS } from '../io/index.js';
import { backupAll, checkAll, commandHelp, cvRun, restoreAll, type BenchContext } from './bench-context.js';
import { initHome, makeLayout, walk } from './bench-layout.js';
import { datasetShape, type BenchOptions } from './bench-options.js';
import type { DeviceLimit } from './device-limit.js';
import { IoBook, type ProbeDisk } from './device-busy.js';
import type { EmulateSpec } from './emulate.js';
import { describeMachine } from './machine.js';
import { addRuns, dropCaches, type ChildRun } from './measure.js';
import { runDevicePhase } from './phase-device.js';
import { runDeviceCheck, TOLERANCE, type DeviceCheck } from './phase-device-check.js';
import { PhaseBook } from './phase-record.js';
import { bottleneckOf, PLAN_OPS, project, type OpSample, type PlanOp, type Projection, type Sample } from './plan-model.js';
import { writePlanReport, type PlanResult } from './plan-report.js';
import { emptyDiscarded } from './discard.js';

export interface PlanOptions {
  /** Bytes to plan for. */
  target: number;
  /** Sample sizes (at least two), smallest first. */
  samples: number[];
  /** Also measure this size and say whether it falls inside the projected intervals. */
  validate?: number;
  home?: string;
  backupDir?: string;
  emulate?: EmulateSpec;
  workers?: number;
  diskConcurrency?: number;
  deviceTestBytes?: number;
  deviceTolerance?: number;
  out: string;
  label: string;
  argv?: string[];
  log?: (line: string) => void;
}

function context(o: PlanOptions, work: string, maxBytes: number): BenchContext {
  const log = o.log ?? ((s: string) => process.stderr.write(`[plan] ${s}\n`));
  const w = o.workers ?? PIPELINE_DEFAULTS.copy.workers;
  const d = o.diskConcurrency ?? PIPELINE_DEFAULTS.copy.diskConcurrency;
  const bo: BenchOptions = {
    size: maxBytes,
    workers: [w],
    diskConcurrency: [d],
    baselines: [],
    repeat: 1,
    out: o.out,
    label: o.label,
    devices: 0,
    scale: false,
    ...(o.home ? { home: o.home } : {}),
    ...(o.backupDir ? { backupDir: o.backupDir } : {}),
    ...(o.emulate ? { emulate: o.emulate, emulateCopies: 2.2 } : {}),
    ...(o.deviceTestBytes ? { deviceTestBytes: o.deviceTestBytes } : {}),
  };
  const notes: string[] = [];
  const layout = makeLayout(bo, work, log, maxBytes, notes);
  return { o: bo, log, work, layout, dbs: QUOTES_DBS.map((x) => x.dbPath), mainWorkers: w, mainRestoreWorkers: o.workers, mainDc: d, restoreHelp: null, checkHelp: null, phases: new PhaseBook('chunkvault'), baselines: new PhaseBook('chunkvault'), notes };
}

/** Empties the volumes and the home, so each sample starts from nothing (and memory-backed disks stay small). */
function resetData(ctx: BenchContext): void {
  for (const v of ctx.layout.volumes) fs.rmSync(v, { recursive: true, force: true });
  fs.rmSync(ctx.layout.home, { recursive: true, force: true });
}

function op(ctx: BenchContext, stage: string, run: ChildRun | ReturnType<typeof addRuns>, bytes: number): OpSample {
  return { seconds: Math.round(run.seconds * 1000) / 1000, mbPerSec: mbPerSec(bytes, run.seconds), cpuSeconds: run.cpuSeconds, io: ctx.io?.stage(stage, bytes) ?? null };
}

/** One sample: generate (untimed), then backup, check and restore timed, each from a cold cache. */
async function runSample(ctx: BenchContext, size: number, tag: string): Promise<Sample> {
  const { layout } = ctx;
  const shape = datasetShape({ size });
  resetData(ctx);
  initHome(layout.home, layout.volumes);
  ctx.log(`${tag}: generating ${shape.dates} date(s) × ${shape.symbols} symbols × ${shape.rowsPerSymbol} rows`);
  await cvRun(ctx, layout.home, ['generate', '--dates', String(shape.dates), '--symbols', String(shape.symbols), '--rows-per-symbol', String(shape.rowsPerSymbol)]);
  const data = layout.volumes.map(walk).reduce((a, b) => ({ files: a.files + b.files, bytes: a.bytes + b.bytes }), { files: 0, bytes: 0 });
  const bak = path.join(layout.backupRoot, `plan-${tag}`);
  const w = ctx.mainWorkers, d = ctx.mainDc;
  ctx.stage = `${tag} backup`;
  const b = await backupAll(ctx, bak, w, d).finally(() => (ctx.stage = undefined));
  resetData(ctx); // the source is not needed any more: check and restore read the backup
  initHome(layout.home, layout.volumes);
  ctx.stage = `${tag} check`;
  const checked = await checkAll(ctx, bak);
  ctx.stage = `${tag} restore`;
  const r = await restoreAll(ctx, bak, layout.home, ctx.mainRestoreWorkers, d).finally(() => (ctx.stage = undefined));
  resetData(ctx);
  fs.rmSync(bak, { recursive: true, force: true });
  const ops = { backup: op(ctx, `${tag} backup`, b.run, data.bytes), check: op(ctx, `${tag} check`, checked.run, data.bytes), restore: op(ctx, `${tag} restore`, r.run, data.bytes) };
  ctx.log(`${tag}: ${(data.bytes / 1e9).toFixed(2)} GB: ${PLAN_OPS.map((k) => `${k} ${ops[k].seconds.toFixed(1)} s (${ops[k].mbPerSec} MB/s)`).join(', ')}`);
  return { sizeBytes: size, bytes: data.bytes, files: data.files, dates: shape.dates, rowsPerSymbol: shape.rowsPerSymbol, ops };
}

/** The disks to watch: emulated ones with their limits, or the real devices under the volumes and backups. */
function probeDisks(ctx: BenchContext, limits: DeviceLimit[]): ProbeDisk[] {
  const em = ctx.layout.emulated;
  if (em) return em.disks.map((x) => ({ role: x.role, name: x.device.replace('/dev/', ''), readLimitMbPerSec: x.bytesPerSec / 1e6, writeLimitMbPerSec: x.bytesPerSec / 1e6 }));
  const m = describeMachine([...ctx.layout.volumes.map((v) => ({ role: 'volume', path: v })), { role: 'backup', path: ctx.layout.backupRoot }]);
  return m.disks.filter((x) => x.blockDevice).map((x) => {
    const l = limits.find((y) => y.dev === x.dev);
    return { role: x.role, name: x.blockDevice!, readLimitMbPerSec: l?.read.mbPerSec ?? null, writeLimitMbPerSec: l?.write.mbPerSec ?? null };
  });
}

/**
 * The limit that floors each operation: backup and restore the copy limit, check the backup disk's
 * read (project() lowers the interval's floor by the check's tolerance).
 */
function floorOf(opName: PlanOp, limits: DeviceLimit[], volumes: string[], backup: string): number | null {
  const get = (d: string) => limits.find((l) => l.dev === d);
  const b = get(backup);
  const vols = [...new Set(volumes)].map(get);
  if (!b || vols.some((v) => !v)) return null;
  const mb = opName === 'check' ? b.read.mbPerSec : opName === 'backup' ? Math.min(b.write.mbPerSec, vols.reduce((s, v) => s + v!.read.mbPerSec, 0)) : Math.min(b.read.mbPerSec, vols.reduce((s, v) => s + v!.write.mbPerSec, 0));
  return vols.some((v) => v!.dev === backup) ? null : mb * 1e6;
}

/** Bytes of dirty page cache at which writers are throttled: vm.dirty_bytes, or vm.dirty_ratio % of available memory. */
function dirtyThreshold(): number {
  const num = (f: string) => Number(fs.readFileSync(`/proc/sys/vm/${f}`, 'utf8').trim()) || 0;
  const avail = Number(/^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
  return num('dirty_bytes') || (num('dirty_ratio') / 100) * avail;
}

async function measureAll(ctx: BenchContext, o: PlanOptions): Promise<Omit<PlanResult, 'schema' | 'label' | 'startedAt' | 'finishedAt' | 'argv' | 'files'>> {
  fs.mkdirSync(ctx.layout.backupRoot, { recursive: true });
  initHome(ctx.layout.home, ctx.layout.volumes);
  ctx.restoreHelp = await commandHelp(ctx.layout.home, 'restore-db');
  const em = ctx.layout.emulated;
  let checks: DeviceCheck[] = [];
  let limits: DeviceLimit[];
  let devs: { volumes: string[]; backup: string };
  if (em) ({ checks, limits, devs } = await runDeviceCheck(em, ctx.log, o.deviceTestBytes, o.deviceTolerance));
  else ({ limits, devs } = await runDevicePhase(ctx, Math.max(...o.samples)));
  ctx.io = new IoBook(probeDisks(ctx, limits));
  const tol = em ? (o.deviceTolerance ?? TOLERANCE) : TOLERANCE;
  const dirty = dirtyThreshold();
  if (Math.max(...o.samples) < dirty)
    ctx.notes.push(`The largest sample (${(Math.max(...o.samples) / 1e9).toFixed(2)} GB) is below the kernel's dirty-page limit (about ${(dirty / 1e9).toFixed(1)} GB here: vm.dirty_ratio of available memory), so the samples never met writeback throttling; a larger run may be slower per byte than they show. Samples above that limit project better.`);
  const samples: Sample[] = [];
  for (const [i, s] of o.samples.entries()) samples.push(await runSample(ctx, s, `sample ${i + 1}`));
  const projections: Projection[] = PLAN_OPS.map((k) => project(k, samples, o.target, floorOf(k, limits, devs.volumes, devs.backup), tol));
  let validation: PlanResult['validation'];
  if (o.validate) {
    const v = await runSample(ctx, o.validate, 'validation');
    const at = PLAN_OPS.map((k) => project(k, samples, v.bytes, floorOf(k, limits, devs.volumes, devs.backup), tol));
    validation = { sample: v, ops: at.map((p) => ({ op: p.op, projected: p.seconds, low: p.low, high: p.high, measured: v.ops[p.op].seconds, inside: v.ops[p.op].seconds >= p.low && v.ops[p.op].seconds <= p.high })) };
    ctx.log(`validation at ${(v.bytes / 1e9).toFixed(2)} GB: ${validation.ops.map((x) => `${x.op} ${x.measured} s in [${x.low}, ${x.high}]: ${x.inside ? 'inside' : 'OUTSIDE'}`).join('; ')}`);
  }
  const machine = describeMachine([...ctx.layout.volumes.map((v) => ({ role: 'volume', path: v })), { role: 'backup', path: ctx.layout.backupRoot }]);
  return {
    target: o.target,
    options: { workers: ctx.mainWorkers, diskConcurrency: ctx.mainDc, samples: o.samples, validate: o.validate ?? null },
    machine,
    cache: dropCaches() ? 'cold' : 'warm',
    disks: em ? { kind: 'emulated', spec: em.spec.text, description: em.description, checks } : { kind: 'real', spec: null, description: `the real disks under ${ctx.layout.volumes[0]} and ${ctx.layout.backupRoot}`, checks: [] },
    deviceLimits: limits,
    samples,
    projections,
    bottleneck: bottleneckOf(projections),
    ...(validation ? { validation } : {}),
    notes: ctx.notes,
  };
}

/** Runs the samples (and the validation run), projects to the target and writes <out>/<date>-<label>.{json,md}. */
export async function runPlan(o: PlanOptions): Promise<{ plan: PlanResult; files: { json: string; md: string } }> {
  if (o.samples.length < 2) throw new Error('a plan needs at least two sample sizes to see how cost grows with size');
  const startedAt = new Date().toISOString();
  const work = path.join(path.resolve(o.home ?? os.tmpdir()), `cv-plan-${startedAt.replace(/[:.]/g, '-')}`);
  fs.mkdirSync(work, { recursive: true });
  const biggest = Math.max(...o.samples, o.validate ?? 0);
  const est = (() => {
    const s = datasetShape({ size: biggest });
    return s.dates * bytesPerDate(s.symbols, s.rowsPerSymbol);
  })();
  let ctx: BenchContext | undefined;
  try {
    ctx = context(o, work, est);
    const m = await measureAll(ctx, o);
    const plan: PlanResult = { schema: 'chunkvault-plan/1', label: o.label, startedAt, finishedAt: new Date().toISOString(), argv: o.argv ?? [], ...m };
    return { plan, files: writePlanReport(plan, o.out) };
  } finally {
    emptyDiscarded();
    ctx?.layout.emulated?.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
    if (o.backupDir) fs.rmSync(path.join(path.resolve(o.backupDir), path.basename(work)), { recursive: true, force: true });
  }
}
