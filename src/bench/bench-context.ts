import type { BenchOptions } from './bench-options.js';
import type { IoBook } from './device-busy.js';
import type { Layout } from './bench-layout.js';
import { addRuns, dropCaches, runChunkvault, type ChildRun } from './measure.js';
import type { PhaseBook } from './phase-record.js';

/** What every phase of one bench run shares: options, directories, records and the CLI's abilities. */
export interface BenchContext {
  o: BenchOptions;
  log: (line: string) => void;
  /** The run's working directory (homes, restores, caches). */
  work: string;
  layout: Layout;
  /** The two generated databases' paths. */
  dbs: string[];
  /** Workers and disk concurrency of the main phases: the CLI's defaults when the sweep includes them. */
  mainWorkers: number;
  /** The main phases' restores: undefined (a restore's own default, one worker per core) when mainWorkers is the copy default. */
  mainRestoreWorkers: number | undefined;
  mainDc: number;
  /** `--help` of restore-db and check, or null when this build lacks the command. */
  restoreHelp: string | null;
  checkHelp: string | null;
  phases: PhaseBook;
  baselines: PhaseBook;
  notes: string[];
  /** Disk and CPU counters per stage (emulated disks); runs are counted while `stage` is set. */
  io?: IoBook;
  stage?: string;
}

/** A repository format for the backup phases: extra backup flags, and the environment (a password) of every command. */
export interface RepoVariant {
  args: string[];
  env: Record<string, string>;
}
const NO_VARIANT: RepoVariant = { args: [], env: {} };

export const parse = <T>(r: ChildRun): T => JSON.parse(r.stdout) as T;
/** Tuning flags; no `--workers` when `w` is undefined (the command's own default). */
export const tune = (w: number | undefined, d: number) => [...(w === undefined ? [] : ['--workers', String(w)]), '--disk-concurrency', String(d)];
/** Tuning flags only for a command whose help lists them (older builds' restore had none). */
export const tuneIf = (h: string | null, w: number | undefined, d: number) => (h?.includes('--workers') ? tune(w, d) : []);

/**
 * Runs `chunkvault <args>` with cold data: drop the page cache, then load the program once
 * (`--version`, untimed) so Node and the CLI's modules are warm and the timed run reads the data
 * and metadata from the device. A non-zero exit throws with the CLI's own error line.
 */
export async function cvRun(ctx: BenchContext, home: string, args: string[], env: Record<string, string> = {}): Promise<ChildRun> {
  ctx.layout.emulated?.trim(); // freed blocks back to the backing store, untimed
  dropCaches();
  if (ctx.o.warmProgram !== false) await runChunkvault(home, ['--version']);
  const snap = ctx.stage ? ctx.io?.begin() : undefined;
  const r = await runChunkvault(home, [...args, '--json'], env);
  if (snap) ctx.io!.end(ctx.stage!, snap, r);
  if (r.code !== 0) throw new Error(`chunkvault ${args[0]} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return r;
}

/** The CLI's help for a command, or null when this build does not have it. */
export async function commandHelp(home: string, cmd: string): Promise<string | null> {
  const r = await runChunkvault(home, [cmd, '--help']);
  return r.code === 0 ? r.stdout : null;
}

/**
 * `backup-all`: every database into `dir` in one process, as one measurement (it used to be one
 * backup-db process per database; the second Node start and pool boot cost ~0.3 s on the emulated
 * seed disks, docs/PERFORMANCE.md "One process for every database").
 */
export async function backupAll(ctx: BenchContext, dir: string, w: number, d: number, variant: RepoVariant = NO_VARIANT) {
  const r = await cvRun(ctx, ctx.layout.home, ['backup-all', dir, ...tune(w, d), ...variant.args], variant.env);
  const j = parse<{ bytesCopied: number; bytesStored: number; bytesDeduplicated?: number; partitions: number; skipped: number; seconds: number }>(r);
  return { run: addRuns([r]), bytes: j.bytesCopied, detail: { partitionsCopied: j.partitions, partitionsSkipped: j.skipped, engineSeconds: j.seconds, bytesStored: j.bytesStored, bytesDeduplicated: j.bytesDeduplicated ?? 0 } };
}

/** `check` of every database of `dir` in one process (with its own defaults: one worker per core, it is CPU-bound). Exit 8 (bad chunks) throws. */
export async function checkAll(ctx: BenchContext, dir: string, variant: RepoVariant = NO_VARIANT) {
  const r = await cvRun(ctx, ctx.layout.home, ['check', dir], variant.env);
  const j = parse<{ bad: unknown[]; bytesChecked: number; seconds: number }>(r);
  return { run: r, bytes: j.bytesChecked, detail: { badChunks: j.bad.length, engineSeconds: j.seconds } };
}

/**
 * Restores every database of `dir` into `home` under its own name, as one measurement: a fresh
 * home gets one `migrate` (the whole backup in one process, as an operator restores a machine, and
 * as cp -r and restic restore are timed); `again` runs restore-db per database over what is there.
 */
export async function restoreAll(ctx: BenchContext, dir: string, home: string, w: number | undefined, d: number, variant: RepoVariant = NO_VARIANT, again = false) {
  const runs: ChildRun[] = [];
  let bytes = 0, engine = 0;
  const argv = again ? ctx.dbs.map((db) => ['restore-db', dir, db]) : [['migrate', dir]];
  for (const args of argv) {
    const r = await cvRun(ctx, home, [...args, ...tuneIf(ctx.restoreHelp, w, d)], variant.env);
    const j = parse<Record<string, unknown>>(r);
    runs.push(r);
    // Builds differ in what they call the bytes they restored.
    const b = [j.bytes, j.bytesCopied, j.bytesRestored].find((x) => typeof x === 'number') as number | undefined;
    bytes += b ?? 0;
    if (typeof j.seconds === 'number') engine += j.seconds;
  }
  return { run: addRuns(runs), bytes, detail: { engineSeconds: engine } };
}
