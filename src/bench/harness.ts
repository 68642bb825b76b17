import { DEFAULT_DISK_CONCURRENCY, DEFAULT_WORKERS } from '../engine/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatBytes, mbPerSec } from '../common/units.js';
import { initCluster } from '../store/index.js';
import { computeGoals, computeRatios } from './analysis.js';
import { BASELINES, baselineUnavailable, resticInit, runCp, runPlainRead, runResticBackup, runResticRestore, runRsync, type BaselineName } from './baselines.js';
import { measureDevice, type DeviceLimit } from './device-limit.js';
import { bytesPerDate } from '../generate/generate.js';
import { makeLoopDevices, type LoopDevices } from './loop-devices.js';
import { describeDisk, describeMachine } from './machine.js';
import { addRuns, dropCaches, isRoot, median, runChunkvault, type ChildRun, type RunSample } from './measure.js';
import { QUOTES_DBS } from '../generate/quotes.js';
import { writeReport } from './report.js';
import { RESULT_SCHEMA, type BenchResult, type Measurement, type Summary, type SweepCell } from './result.js';

export interface BenchOptions {
  /** Target data size in bytes (three tables, two databases). */
  size: number;
  /** Parent directory for the cluster homes (default: the OS temp dir). */
  home?: string;
  /** Parent directory for backups and baseline copies (default: beside the homes). */
  backupDir?: string;
  workers: number[];
  diskConcurrency: number[];
  baselines: BaselineName[];
  repeat: number;
  out: string;
  label: string;
  /** Loop devices to spread volumes and backups over (root only); 0 = plain directories. */
  devices: number;
  /** Measure the no-change incremental backup of 500 partitions × 3 tables (a separate small data set). */
  scale: boolean;
  keep?: boolean;
  /** Shape overrides (tests): otherwise picked from size. */
  symbols?: number;
  rowsPerSymbol?: number;
  dates?: number;
  /** Load the program once, untimed, before each timed command (default true; tests turn it off to save time). */
  warmProgram?: boolean;
  /** Size of the raw device test file (default: min(1 GiB, data size)). */
  deviceTestBytes?: number;
  argv?: string[];
  log?: (line: string) => void;
}

const SYMBOLS = 500;
const ROWS = 80_000;
const BYTES_PER_ROW_ALL_TABLES = bytesPerDate(1, 1);

/** Dates, symbols and rows per symbol for a target size: whole dates of the tutorial's shape, or fewer rows below one date. */
export function datasetShape(o: Pick<BenchOptions, 'size' | 'symbols' | 'rowsPerSymbol' | 'dates'>): { dates: number; symbols: number; rowsPerSymbol: number } {
  const symbols = o.symbols ?? SYMBOLS;
  const full = bytesPerDate(symbols, o.rowsPerSymbol ?? ROWS);
  if (o.dates) return { dates: o.dates, symbols, rowsPerSymbol: o.rowsPerSymbol ?? ROWS };
  if (o.rowsPerSymbol || o.size >= full) return { dates: Math.max(1, Math.round(o.size / full)), symbols, rowsPerSymbol: o.rowsPerSymbol ?? ROWS };
  return { dates: 1, symbols, rowsPerSymbol: Math.max(1, Math.round(o.size / (symbols * BYTES_PER_ROW_ALL_TABLES))) };
}

function summarize(runs: RunSample[], bytes: number): Summary {
  const med = (k: 'cpuSeconds' | 'peakRssBytes') => (runs.every((r) => r[k] !== null) ? median(runs.map((r) => r[k]!)) : null);
  const seconds = median(runs.map((r) => r.seconds));
  return { seconds, mbPerSec: mbPerSec(bytes, seconds), cpuSeconds: med('cpuSeconds'), peakRssBytes: med('peakRssBytes') };
}

function walk(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const go = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) go(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  if (fs.existsSync(dir)) go(dir);
  return { files, bytes };
}

const devOf = (p: string) => describeDisk('', p).dev;
const parse = <T>(r: ChildRun): T => JSON.parse(r.stdout) as T;

/**
 * Runs `chunkvault <args>` with cold data: drop the page cache, then load the program once
 * (`--version`, untimed) so Node and the CLI's modules are warm and the timed run reads the data
 * and metadata from the device. A non-zero exit throws with the CLI's own error line.
 */
async function cv(home: string, args: string[], warmProgram: boolean): Promise<ChildRun> {
  dropCaches();
  if (warmProgram) await runChunkvault(home, ['--version']);
  const r = await runChunkvault(home, [...args, '--json']);
  if (r.code !== 0) throw new Error(`chunkvault ${args[0]} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return r;
}

/** The measurement record for a phase, filled in as runs come in. */
class Phase {
  readonly m: Measurement;
  constructor(name: string, tool: Measurement['tool'], command: string) {
    this.m = { name, tool, command, status: 'ok', bytes: 0, runs: [], median: null };
  }
  skip(reason: string): void {
    if (this.m.status === 'ok') Object.assign(this.m, { status: 'skipped', reason });
  }
  fail(err: unknown): void {
    Object.assign(this.m, { status: 'failed', reason: (err as Error).message ?? String(err) });
  }
  get ok(): boolean {
    return this.m.status === 'ok';
  }
  add(run: RunSample, bytes: number, detail?: Record<string, unknown>): void {
    this.m.runs.push({ seconds: run.seconds, cpuSeconds: run.cpuSeconds, peakRssBytes: run.peakRssBytes });
    this.m.bytes = bytes;
    if (detail) this.m.detail = { ...this.m.detail, ...detail };
  }
  finish(): Measurement {
    this.m.median = this.ok && this.m.runs.length ? summarize(this.m.runs, this.m.bytes) : null;
    if (this.ok && !this.m.runs.length) Object.assign(this.m, { status: 'skipped', reason: this.m.reason ?? 'not run' });
    return this.m;
  }
}

interface Layout {
  home: string;
  volumes: string[];
  backupRoot: string;
  /** Where restores (chunkvault and restic) write: volumes of a fresh cluster home on the volume devices. */
  restoreVolumes: (tag: string) => string[];
  resticTarget: string;
  loops?: LoopDevices;
  kind: 'directories' | 'loop-ext4';
  note?: string;
}

function makeLayout(o: BenchOptions, work: string, log: (s: string) => void, dataBytes: number, notes: string[]): Layout {
  const backupRoot = o.backupDir ? path.join(path.resolve(o.backupDir), path.basename(work)) : path.join(work, 'backup');
  if (o.devices > 0 && !isRoot) notes.push(`--devices ${o.devices} ignored: loop devices need root; volumes and backups are plain directories.`);
  if (o.devices > 0 && isRoot) {
    const n = o.devices;
    const volDevs = Math.max(1, n - 1);
    const volSize = Math.ceil((2.4 * dataBytes) / volDevs) + (1 << 30);
    const bakSize = Math.ceil(2.4 * dataBytes) + (1 << 30);
    const sizes = n === 1 ? [volSize + bakSize] : [...Array.from({ length: volDevs }, () => volSize), bakSize];
    log(`making ${n} loop-mounted ext4 device(s) (sparse images under ${work}/dev)`);
    const loops = makeLoopDevices(path.join(work, 'dev'), sizes);
    const volMounts = n === 1 ? loops.mounts : loops.mounts.slice(0, -1);
    const bakMount = loops.mounts[loops.mounts.length - 1]!;
    const volumes = volMounts.map((m, i) => path.join(m, `vol${i}`));
    return {
      home: path.join(work, 'home'),
      volumes,
      backupRoot: path.join(bakMount, 'backup'),
      restoreVolumes: (tag) => volMounts.map((m, i) => path.join(m, `${tag}-vol${i}`)),
      resticTarget: path.join(volMounts[0]!, 'restic-restore'),
      loops,
      kind: 'loop-ext4',
      note: `${n} loop devices (${loops.devices.join(', ')}), ext4, ${loops.directIo ? 'direct I/O to their backing files' : 'buffered backing files'}; ${n === 1 ? 'volumes and backups share the one device' : `${volDevs} volume device(s), backups on ${loops.devices[n - 1]}`}. They share the disk holding the images, so they exercise the per-disk queues but add no bandwidth.`,
    };
  }
  const home = path.join(work, 'home');
  return {
    home,
    volumes: [path.join(home, 'volumes', 'node1', 'vol0')],
    backupRoot,
    restoreVolumes: (tag) => [path.join(work, tag, 'volumes', 'node1', 'vol0')],
    resticTarget: path.join(work, 'restic-restore'),
    kind: 'directories',
  };
}

function initHome(home: string, volumes: string[]): void {
  fs.rmSync(home, { recursive: true, force: true });
  initCluster(home, { volumes: volumes.map((v) => `node1=${v}`) });
}

function checkSpace(dir: string, need: number, what: string): void {
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) d = path.dirname(d);
  const st = fs.statfsSync(d);
  const free = st.bavail * st.bsize;
  if (free < need) throw new Error(`not enough free space for ${what} in ${d}: need about ${formatBytes(need)}, ${formatBytes(free)} free (use --home / --backup-dir to choose other disks, or a smaller --size)`);
}

/** Runs the whole benchmark and writes the report files; returns the result and their paths. */
export async function runBench(o: BenchOptions): Promise<{ result: BenchResult; files: { json: string; md: string; svg: string } }> {
  const log = o.log ?? ((s: string) => process.stderr.write(`[bench] ${s}\n`));
  const startedAt = new Date().toISOString();
  const stamp = startedAt.replace(/[:.]/g, '-');
  const work = path.join(path.resolve(o.home ?? os.tmpdir()), `cv-bench-${stamp}`);
  const shape = datasetShape(o);
  const estBytes = shape.dates * bytesPerDate(shape.symbols, shape.rowsPerSymbol);
  const notes: string[] = [];
  const sameFs = !o.backupDir || devOf(o.backupDir) === devOf(o.home ?? os.tmpdir());
  checkSpace(o.home ?? os.tmpdir(), Math.ceil(estBytes * (sameFs || o.devices ? 4.5 : 2.3)) + (1 << 30), 'data, restores and backups');
  if (!sameFs) checkSpace(o.backupDir!, Math.ceil(estBytes * 2.3) + (1 << 30), 'backups and baseline copies');
  // The main phases use the CLI's defaults when the sweep includes them.
  const mainWorkers = o.workers.includes(DEFAULT_WORKERS) ? DEFAULT_WORKERS : o.workers[0]!;
  const mainDc = o.diskConcurrency.includes(DEFAULT_DISK_CONCURRENCY) ? DEFAULT_DISK_CONCURRENCY : o.diskConcurrency[0]!;
  const cvRun = (home: string, args: string[]) => cv(home, args, o.warmProgram !== false);
  const tune = (w: number, d: number) => ['--workers', String(w), '--disk-concurrency', String(d)];
  fs.mkdirSync(work, { recursive: true });
  const layout = makeLayout(o, work, log, estBytes, notes);
  const cold = dropCaches();
  if (!cold) notes.push('WARM CACHE: could not drop the page cache (needs root); every figure may include reads served from memory.');
  const phases = new Map<string, Phase>();
  const phase = (name: string, command: string, tool: Measurement['tool'] = 'chunkvault') => {
    if (!phases.has(name)) phases.set(name, new Phase(name, tool, command));
    return phases.get(name)!;
  };
  const baselines = new Map<string, Phase>();
  const baseline = (name: string, tool: Measurement['tool'], command: string) => {
    if (!baselines.has(name)) baselines.set(name, new Phase(name, tool, command));
    return baselines.get(name)!;
  };
  const dbs = QUOTES_DBS.map((d) => d.dbPath);
  const deviceLimits: DeviceLimit[] = [];
  const sweep: SweepCell[] = [];
  let dataset = { bytes: 0, files: 0 };
  let partitionsPerTable = 0;
  try {
    initHome(layout.home, layout.volumes);
    fs.mkdirSync(layout.backupRoot, { recursive: true });
    const help = async (cmd: string) => {
      const r = await runChunkvault(layout.home, [cmd, '--help']);
      return r.code === 0 ? r.stdout : null;
    };
    const restoreHelp = await help('restore-db');
    const checkHelp = await help('check');
    const tuneIf = (h: string | null, w: number, d: number) => (h?.includes('--workers') ? tune(w, d) : []);

    // generate
    log(`generate: ${shape.dates} date(s) × ${shape.symbols} symbols × ${shape.rowsPerSymbol} rows ≈ ${formatBytes(estBytes)}`);
    const gen = phase('generate', `chunkvault generate --dates ${shape.dates} --symbols ${shape.symbols} --rows-per-symbol ${shape.rowsPerSymbol}`);
    const g = await cvRun(layout.home, ['generate', '--dates', String(shape.dates), '--symbols', String(shape.symbols), '--rows-per-symbol', String(shape.rowsPerSymbol)]);
    const gs = parse<{ bytes: number; seconds: number; partitions: number }>(g);
    gen.add(g, gs.bytes, { partitions: gs.partitions, engineSeconds: gs.seconds });
    partitionsPerTable = gs.partitions;
    dataset = layout.volumes.map(walk).reduce((a, b) => ({ files: a.files + b.files, bytes: a.bytes + b.bytes }), { files: 0, bytes: 0 });
    log(`generate: ${formatBytes(gs.bytes)} in ${g.seconds.toFixed(1)} s (${mbPerSec(gs.bytes, g.seconds)} MB/s)`);

    // raw device limits
    const devs = { volumes: layout.volumes.map(devOf), backup: devOf(layout.backupRoot) };
    const testBytes = o.deviceTestBytes ?? Math.min(1 << 30, Math.max(64 << 20, dataset.bytes));
    const devDirs = new Map<string, string>();
    layout.volumes.forEach((v, i) => devDirs.set(devs.volumes[i]!, v));
    if (!devDirs.has(devs.backup)) devDirs.set(devs.backup, layout.backupRoot);
    for (const [dev, dir] of devDirs) {
      dropCaches();
      const d = await measureDevice(dir, dev, testBytes);
      deviceLimits.push(d);
      log(`device ${dev} (${d.method}, ${formatBytes(d.fileBytes)}): write ${d.write.mbPerSec} MB/s, read ${d.read.mbPerSec} MB/s`);
    }

    const bak = path.join(layout.backupRoot, 'chunkvault');
    const backupAll = async (dir: string, w: number, d: number) => {
      const runs: ChildRun[] = [];
      let bytes = 0, copied = 0, skipped = 0, engine = 0;
      for (const db of dbs) {
        const r = await cvRun(layout.home, ['backup-db', dir, db, ...tune(w, d)]);
        const j = parse<{ bytesCopied: number; partitions: number; skipped: number; seconds: number }>(r);
        runs.push(r);
        bytes += j.bytesCopied;
        copied += j.partitions;
        skipped += j.skipped;
        engine += j.seconds;
      }
      return { run: addRuns(runs), bytes, detail: { partitionsCopied: copied, partitionsSkipped: skipped, engineSeconds: engine } };
    };
    const restoreAll = async (dir: string, home: string, w: number, d: number) => {
      const runs: ChildRun[] = [];
      let bytes = 0, engine = 0;
      for (const db of dbs) {
        const r = await cvRun(home, ['restore-db', dir, db, `${db}_restored`, ...tuneIf(restoreHelp, w, d)]);
        const j = parse<Record<string, unknown>>(r);
        runs.push(r);
        const b = [j.bytes, j.bytesCopied, j.bytesRestored].find((x) => typeof x === 'number') as number | undefined;
        bytes += b ?? 0;
        if (typeof j.seconds === 'number') engine += j.seconds;
      }
      return { run: addRuns(runs), bytes, detail: { engineSeconds: engine } };
    };

    for (let rep = 1; rep <= o.repeat; rep++) {
      const tag = `run ${rep}/${o.repeat}`;
      fs.rmSync(bak, { recursive: true, force: true });
      const full = phase('backup', `chunkvault backup-db (both databases) ${tune(mainWorkers, mainDc).join(' ')}`);
      let backupBytes = 0;
      try {
        const b = await backupAll(bak, mainWorkers, mainDc);
        backupBytes = b.bytes;
        full.add(b.run, b.bytes, b.detail);
        log(`backup ${tag}: ${formatBytes(b.bytes)} in ${b.run.seconds.toFixed(2)} s (${mbPerSec(b.bytes, b.run.seconds)} MB/s)`);
      } catch (err) {
        full.fail(err);
        log(`backup failed: ${(err as Error).message}`);
      }
      const inc = phase('incremental-backup', 'chunkvault backup-db again, nothing changed');
      if (!full.ok) inc.skip('full backup failed');
      else {
        try {
          const b = await backupAll(bak, mainWorkers, mainDc);
          inc.add(b.run, 0, b.detail);
          log(`incremental backup ${tag}: ${b.run.seconds.toFixed(3)} s, ${b.detail.partitionsCopied} partitions copied`);
        } catch (err) {
          inc.fail(err);
        }
      }
      const chk = phase('check', 'chunkvault check (both databases)');
      if (!checkHelp) chk.skip('this build has no `check` command');
      else if (!full.ok) chk.skip('full backup failed');
      else {
        try {
          const runs: ChildRun[] = [];
          let bad = 0, checked = 0, engine = 0;
          for (const db of dbs) {
            // exit 8 (bad chunks) throws here: a fresh backup must check clean.
            // check runs with its own defaults (one worker per core: it is CPU-bound, copies are not).
            const r = await cvRun(layout.home, ['check', bak, db]);
            const j = parse<{ bad?: unknown[]; bytesChecked?: number; seconds?: number }>(r);
            bad += j.bad?.length ?? 0;
            checked += j.bytesChecked ?? 0;
            engine += j.seconds ?? 0;
            runs.push(r);
          }
          const bytes = checked || backupBytes;
          const run = addRuns(runs);
          chk.add(run, bytes, { badChunks: bad, engineSeconds: engine });
          log(`check ${tag}: ${run.seconds.toFixed(2)} s (${mbPerSec(bytes, run.seconds)} MB/s)`);
        } catch (err) {
          chk.fail(err);
        }
      }
      const res = phase('restore', 'chunkvault restore-db into a new database (both databases)');
      const incRes = phase('incremental-restore', 'chunkvault restore-db again, nothing changed');
      const restoreHome = path.join(work, 'restore-home');
      if (!restoreHelp) {
        res.skip('this build has no `restore-db` command');
        incRes.skip('this build has no `restore-db` command');
      } else if (!full.ok) {
        res.skip('full backup failed');
        incRes.skip('full backup failed');
      } else {
        try {
          initHome(restoreHome, layout.restoreVolumes('restore'));
          const r = await restoreAll(bak, restoreHome, mainWorkers, mainDc);
          const bytes = r.bytes || backupBytes;
          res.add(r.run, bytes, r.detail);
          log(`restore ${tag}: ${r.run.seconds.toFixed(2)} s (${mbPerSec(bytes, r.run.seconds)} MB/s)`);
          try {
            const again = await restoreAll(bak, restoreHome, mainWorkers, mainDc);
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
        fs.rmSync(restoreHome, { recursive: true, force: true });
        for (const v of layout.restoreVolumes('restore')) fs.rmSync(v, { recursive: true, force: true });
      }

      // baselines over the same files
      const plain = baseline('plain-read', 'cat', 'find <backup> -type f | xargs cat > /dev/null');
      if (full.ok) {
        try {
          plain.add(await runPlainRead(bak), walk(bak).bytes);
        } catch (err) {
          plain.fail(err);
        }
      } else plain.skip('no backup to read');
      for (const name of BASELINES) {
        const wanted = o.baselines.includes(name);
        const why = wanted ? baselineUnavailable(name) : 'not requested (--baselines)';
        const names = name === 'restic' ? ['restic-backup', 'restic-restore'] : [name];
        const cmds: Record<string, string> = { cp: 'cp -r <volumes> <dst> && sync -f <dst>', rsync: 'rsync -a <volumes> <dst>/ && sync -f <dst>', 'restic-backup': 'restic backup <volumes> (local repo) && sync', 'restic-restore': 'restic restore latest --target <dir> && sync' };
        const ms = names.map((n) => baseline(n, name, cmds[n]!));
        if (why) {
          ms.forEach((m) => m.skip(why));
          continue;
        }
        const dst = path.join(layout.backupRoot, name);
        try {
          if (name === 'cp') ms[0]!.add(await runCp(layout.volumes, dst), dataset.bytes);
          if (name === 'rsync') ms[0]!.add(await runRsync(layout.volumes, dst), dataset.bytes);
          if (name === 'restic') {
            const repo = await resticInit(path.join(layout.backupRoot, 'restic-repo'), path.join(work, 'restic-cache'));
            ms[0]!.add(await runResticBackup(repo, layout.volumes), dataset.bytes, { repoBytes: walk(repo.repo).bytes });
            ms[1]!.add(await runResticRestore(repo, layout.resticTarget), dataset.bytes);
          }
          for (const m of ms) log(`${m.m.name} ${tag}: ${m.m.runs.at(-1)!.seconds.toFixed(2)} s (${mbPerSec(dataset.bytes, m.m.runs.at(-1)!.seconds)} MB/s)`);
        } catch (err) {
          ms.forEach((m) => m.fail(err));
          log(`${name} failed: ${(err as Error).message}`);
        } finally {
          for (const p of [dst, path.join(layout.backupRoot, 'restic-repo'), layout.resticTarget, path.join(work, 'restic-cache')]) fs.rmSync(p, { recursive: true, force: true });
        }
      }
    }

    // the workers × disk-concurrency sweep
    if (o.workers.length > 1 || o.diskConcurrency.length > 1) {
      const sbak = path.join(layout.backupRoot, 'sweep');
      for (const w of o.workers)
        for (const d of o.diskConcurrency) {
          const bRuns: RunSample[] = [];
          const rRuns: RunSample[] = [];
          let bytes = 0;
          try {
            for (let rep = 1; rep <= o.repeat; rep++) {
              fs.rmSync(sbak, { recursive: true, force: true });
              const b = await backupAll(sbak, w, d);
              bytes = b.bytes;
              bRuns.push(b.run);
              if (restoreHelp) {
                const rh = path.join(work, 'sweep-home');
                initHome(rh, layout.restoreVolumes('sweep'));
                try {
                  rRuns.push((await restoreAll(sbak, rh, w, d)).run);
                } finally {
                  fs.rmSync(rh, { recursive: true, force: true });
                  for (const v of layout.restoreVolumes('sweep')) fs.rmSync(v, { recursive: true, force: true });
                }
              }
            }
            const cell: SweepCell = { workers: w, diskConcurrency: d, backup: summarize(bRuns, bytes), restore: rRuns.length ? summarize(rRuns, bytes) : null };
            sweep.push(cell);
            log(`sweep workers=${w} disk-concurrency=${d}: backup ${cell.backup?.mbPerSec} MB/s${cell.restore ? `, restore ${cell.restore.mbPerSec} MB/s` : ''}`);
          } catch (err) {
            sweep.push({ workers: w, diskConcurrency: d, backup: null, restore: null });
            notes.push(`sweep cell workers=${w} disk-concurrency=${d} failed: ${(err as Error).message}`);
          }
        }
      fs.rmSync(sbak, { recursive: true, force: true });
    }

    // no-change incremental backup at the tutorial's partition count
    const scale = phase('incremental-backup-500', 'chunkvault backup-db again over 500 partitions × 3 tables, nothing changed');
    if (!o.scale) scale.skip('not requested (--no-scale)');
    else {
      const sh = path.join(work, 'scale-home');
      const sbak = path.join(layout.backupRoot, 'scale');
      try {
        initHome(sh, layout.restoreVolumes('scale'));
        log('incremental at scale: generating 100 dates × 500 symbols × 1 row (500 partitions per table) and a first backup; this is not timed');
        await cvRun(sh, ['generate', '--dates', '100', '--symbols', '500', '--rows-per-symbol', '1']);
        for (const db of dbs) await cvRun(sh, ['backup-db', sbak, db, ...tune(mainWorkers, mainDc)]);
        for (let rep = 1; rep <= o.repeat; rep++) {
          const runs: ChildRun[] = [];
          let engine = 0, copied = 0, skipped = 0;
          for (const db of dbs) {
            const r = await cvRun(sh, ['backup-db', sbak, db, ...tune(mainWorkers, mainDc)]);
            const j = parse<{ seconds: number; partitions: number; skipped: number }>(r);
            engine += j.seconds;
            copied += j.partitions;
            skipped += j.skipped;
            runs.push(r);
          }
          const run = addRuns(runs);
          scale.add(run, 0, { engineSeconds: engine, partitionsCopied: copied, partitionsSkipped: skipped });
          log(`incremental backup of ${skipped} table-partitions ${rep}/${o.repeat}: ${run.seconds.toFixed(3)} s (engine ${engine.toFixed(3)} s)`);
        }
      } catch (err) {
        scale.fail(err);
      } finally {
        fs.rmSync(sh, { recursive: true, force: true });
        fs.rmSync(sbak, { recursive: true, force: true });
        for (const v of layout.restoreVolumes('scale')) fs.rmSync(v, { recursive: true, force: true });
      }
    }

    const phaseList = [...phases.values()].map((p) => p.finish());
    const baseList = [...baselines.values()].map((p) => p.finish());
    const ratios = computeRatios(phaseList, baseList, deviceLimits, devs);
    const machine = describeMachine([...layout.volumes.map((v) => ({ role: 'volume', path: v })), { role: 'backup', path: layout.backupRoot }]);
    if (machine.cpus <= 2) notes.push(`${machine.cpus} CPU(s): hashing and copying compete for the same cores as the baselines' kernel work; see docs/PERFORMANCE.md.`);
    notes.push('cp and rsync copy the volumes to the backup device; backup and restore are both compared with that one direction. rsync -a runs without --checksum (it compares size and mtime; a fresh copy reads and writes everything); chunkvault always hashes with xxh3.');
    const result: BenchResult = {
      schema: RESULT_SCHEMA,
      label: o.label,
      startedAt,
      finishedAt: new Date().toISOString(),
      argv: o.argv ?? [],
      options: { sizeBytes: o.size, repeat: o.repeat, workers: o.workers, diskConcurrency: o.diskConcurrency, mainWorkers, mainDiskConcurrency: mainDc, baselines: o.baselines, devices: o.devices },
      machine,
      cache: cold ? 'cold' : 'warm',
      layout: { kind: layout.kind, volumes: layout.volumes, backupDir: layout.backupRoot, ...(layout.note ? { note: layout.note } : {}) },
      dataset: { ...dataset, databases: dbs, tables: QUOTES_DBS.reduce((a, d) => a + d.tables.length, 0), partitionsPerTable, ...shape },
      deviceLimits,
      phases: phaseList,
      baselines: baseList,
      ratios,
      goals: computeGoals(phaseList, ratios),
      sweep,
      notes,
    };
    const files = writeReport(result, o.out);
    return { result, files };
  } finally {
    layout.loops?.cleanup();
    if (o.keep) log(`kept ${work}${layout.loops ? ' (the loop devices and their contents were removed)' : ''}`);
    else {
      fs.rmSync(work, { recursive: true, force: true });
      if (o.backupDir) fs.rmSync(path.join(path.resolve(o.backupDir), path.basename(work)), { recursive: true, force: true });
    }
  }
}
