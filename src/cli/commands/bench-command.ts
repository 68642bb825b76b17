import type { Command } from 'commander';
import { usage } from '../../common/errors.js';
import { formatBytes, parseBytes } from '../../common/units.js';
import { BASELINES, type BaselineName } from '../../bench/baselines.js';
import { PIPELINE_DEFAULTS } from '../../io/index.js';
import { isS3Url, s3Spec } from '../../engine/index.js';
import { runBench, type BenchOptions } from '../../bench/harness.js';
import { runBothShapes } from '../../bench/shapes.js';
import { REPO_VARIANTS, parseRepoVariants } from '../../bench/phase-variants.js';
import type { BenchResult } from '../../bench/result.js';
import { parseEmulateSpec } from '../../bench/emulate.js';
import { action, intOpt } from '../action.js';
import { printJson, printTable } from '../output.js';

interface Flags {
  size: string;
  shape?: string;
  backupDir?: string;
  workers: string;
  diskConcurrency: string;
  baselines: string;
  repeat: number;
  out: string;
  label?: string;
  devices: number;
  scale: boolean;
  only?: string;
  keep?: boolean;
  dataio: boolean;
  repoVariants?: string;
  symbols?: number;
  rowsPerSymbol?: number;
  deviceTestSize?: string;
  emulate?: string;
  deviceTolerance?: string;
}

function intList(name: string, text: string): number[] {
  const vals = text.split(',').map((s) => Number(s.trim()));
  if (!vals.length || vals.some((v) => !Number.isInteger(v) || v < 1)) throw usage(`${name} must be a comma-separated list of positive integers, got "${text}"`);
  return [...new Set(vals)];
}

function baselineList(text: string): BaselineName[] {
  if (text.trim() === '' || text === 'none') return [];
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) if (!(BASELINES as readonly string[]).includes(n)) throw usage(`unknown baseline "${n}": expected ${BASELINES.join(', ')} or none`);
  return names as BaselineName[];
}

function tolerance(text: string): number {
  const v = Number(text.replace(/%$/, ''));
  if (!Number.isFinite(v) || v <= 0 || v > 50) throw usage(`--device-tolerance must be a percentage between 0 and 50, got "${text}"`);
  return v / 100;
}

function onlyOf(v: string): 'dataio' {
  if (v !== 'dataio') throw usage(`bad --only "${v}": expected dataio`);
  return v;
}

/** An S3 --backup-dir: a bad URL or endpoint is one line before anything is generated. */
function checkS3BackupDir(o: Flags): void {
  if (!o.backupDir || !isS3Url(o.backupDir)) return;
  s3Spec(o.backupDir);
  if (o.devices || o.emulate || o.only) throw usage('--backup-dir s3://… runs the S3 phases on plain directories: it does not combine with --devices, --emulate or --only');
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('capacity-planning benchmark: MB/s of generate, backup, check and restore against the device limit and cp/rsync/restic; writes <out>/<date>-<label>.{json,md,svg}')
    .option('--size <bytes>', 'data to generate across the three tables, e.g. 2GB .. 150GB', '2GB')
    .option('--backup-dir <dir>', 'parent directory for backups and baseline copies (the disk to write backups to); default: beside --home. s3://bucket/prefix: the S3 phases (backup, check, restore against the bucket, rclone copy and restic s3: baselines, the gateway\'s CPU when it runs on this host)')
    .option('--workers <list>', 'worker threads; a list (1,2,4) sweeps', String(PIPELINE_DEFAULTS.copy.workers))
    .option('--disk-concurrency <list>', 'tasks running on a disk at once; a list (1,2,4) sweeps', String(PIPELINE_DEFAULTS.copy.diskConcurrency))
    .option('--baselines <list>', `baselines to run: ${BASELINES.join(',')} or none (missing tools are skipped with the reason)`, BASELINES.join(','))
    .option('--repeat <n>', 'runs of each timed phase; the report shows medians', intOpt('--repeat'), 1)
    .option('--out <dir>', 'where to write the result files', 'bench-results')
    .option('--label <label>', 'name part of the result files (default: the --size value, e.g. 2gb)')
    .option('--devices <n>', 'as root: put volumes and backups on n loop-mounted ext4 devices (n-1 for volumes, 1 for backups)', intOpt('--devices', 0), 0)
    .option('--emulate <spec>', "as root (cgroup v1 blkio): emulated disks, e.g. 'volumes=4x500MB/s,backup=1x500MB/s[,iops=N][,fs=xfs][,backing=tmpfs|sparse]': throttled loop devices, checked within ±5% before timing, removed afterwards")
    .option('--device-tolerance <pct>', 'with --emulate: how far (percent) a disk may be from its asked rate in the device check; default 5, anything else is stated in bold in the report')
    .option('--no-scale', 'skip the no-change incremental backup over 500 partitions × 3 tables (about 90 s of setup)')
    .option('--no-dataio', 'skip the load and export phases of each run')
    .option('--only <phases>', 'dataio: generate, then only export, read-csv and load (CSV MB/s against a plain read, peak RSS)')
    .option('--repo-variants <list>', `also back up and restore into repositories of these formats, each fresh: ${Object.keys(REPO_VARIANTS).join(', ')} (issue 12: v2 without compression against v1, zstd's and AES-GCM's cost)`)
    .option('--keep', 'keep the working directories (homes, backups) afterwards')
    .option('--shape <shape>', 'data set: wide (default: few big partitions, picked from --size), many (issue 12: 2,000 partitions per table, ~150 MB) or both (one run, every baseline on each, a side-by-side report)', 'wide')
    .option('--symbols <n>', 'advanced: symbols in the generated data (default 500)', intOpt('--symbols'))
    .option('--rows-per-symbol <n>', 'advanced: rows per symbol per date (default 80000, or fewer below one date)', intOpt('--rows-per-symbol'))
    .option('--device-test-size <bytes>', 'size of the raw device test file (default min(1GB, data size))')
    .addHelpText('after', '\n--home is the parent directory for the working cluster homes (default: the OS temp dir); they are removed afterwards unless --keep.')
    .action(
      action(async (ctx, o: Flags) => {
        const size = parseBytes(o.size);
        if (size < 1 << 20) throw usage('--size must be at least 1MB');
        const label = (o.label ?? `${o.size.toLowerCase()}`).replace(/[^A-Za-z0-9_.-]+/g, '-');
        if (!['wide', 'default', 'many', 'both'].includes(o.shape ?? 'wide')) throw usage(`--shape must be wide, many or both, got ${o.shape}`);
        checkS3BackupDir(o);
        const opts: BenchOptions = {
          size,
          ...(ctx.globals.home ? { home: ctx.globals.home } : {}),
          ...(o.backupDir ? { backupDir: o.backupDir } : {}),
          workers: intList('--workers', o.workers),
          diskConcurrency: intList('--disk-concurrency', o.diskConcurrency),
          baselines: baselineList(o.baselines),
          repeat: o.repeat,
          out: o.out,
          label,
          devices: o.devices,
          ...(o.emulate ? { emulate: parseEmulateSpec(o.emulate) } : {}),
          ...(o.deviceTolerance ? { deviceTolerance: tolerance(o.deviceTolerance) } : {}),
          scale: o.scale,
          dataio: o.dataio,
          ...(o.only ? { only: onlyOf(o.only) } : {}),
          keep: !!o.keep,
          ...(o.repoVariants ? { repoVariants: parseRepoVariants(o.repoVariants) } : {}),
          ...(o.symbols ? { symbols: o.symbols } : {}),
          ...(o.rowsPerSymbol ? { rowsPerSymbol: o.rowsPerSymbol } : {}),
          ...(o.deviceTestSize ? { deviceTestBytes: parseBytes(o.deviceTestSize) } : {}),
          argv: ['chunkvault', ...process.argv.slice(2)],
          ...(ctx.json ? { log: (s: string) => process.stderr.write(`[bench] ${s}\n`) } : {}),
        };
        if (o.shape === 'both') {
          const both = await runBothShapes(opts, runBench);
          if (ctx.json) return printJson({ md: both.md, results: both.results });
          for (const r of both.results) printGoals(r);
          return void process.stdout.write(`\nwrote ${both.md} (and one report per shape beside it)\n`);
        }
        const { result, files } = await runBench({ ...opts, ...(o.shape === 'many' ? { shape: 'many' as const } : {}) });
        if (ctx.json) return printJson({ files, result });
        printTable(
          [...result.phases, ...result.baselines].map((m) => ({
            phase: m.name,
            status: m.status === 'ok' ? 'ok' : `${m.status}: ${m.reason}`,
            seconds: m.median ? m.median.seconds.toFixed(2) : '',
            'MB/s': m.median && m.bytes ? m.median.mbPerSec : '',
            cpuS: m.median?.cpuSeconds?.toFixed(2) ?? '',
            peakRss: m.median?.peakRssBytes ? formatBytes(m.median.peakRssBytes) : '',
          })),
        );
        process.stdout.write('\n');
        printGoals(result);
        process.stdout.write(`\n${result.cache === 'cold' ? 'cold cache' : 'WARM cache (not root): figures are optimistic'}\nwrote ${files.json}\n      ${files.md}\n      ${files.svg}\n`);
      }),
    );
}

function printGoals(result: BenchResult): void {
  printTable(result.goals.map((g) => ({ goal: g.goal, measured: g.measured === null ? '' : g.unit === 's' ? `${g.measured.toFixed(3)} s` : `${g.measured.toFixed(3)}x`, met: g.met === null ? 'not measured' : g.met ? 'met' : 'MISSED' })));
}
