import type { Command } from 'commander';
import { usage } from '../../common/errors.js';
import { formatBytes, parseBytes } from '../../common/units.js';
import { parseEmulateSpec } from '../../bench/emulate.js';
import { runPlan } from '../../bench/plan.js';
import { action, intOpt } from '../action.js';
import { printJson, printTable } from '../output.js';

interface Flags {
  size: string;
  samples: string;
  validate?: string;
  emulate?: string;
  backupDir?: string;
  workers?: number;
  diskConcurrency?: number;
  deviceTolerance?: string;
  deviceTestSize?: string;
  out: string;
  label?: string;
}

const dur = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(2)} h` : s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('capacity planning: measure backup, check and restore on samples of the tutorial data (real or emulated disks), project the times for --size with an interval, and name the bottleneck; writes <out>/<date>-<label>.{json,md}')
    .requiredOption('--size <bytes>', 'the data size to plan for, e.g. 150GB')
    .option('--samples <list>', 'sample sizes to measure (at least two), e.g. 0.5GB,1GB', '0.5GB,1GB')
    .option('--validate <bytes>', 'also measure this size and say whether it falls inside the projected intervals')
    .option('--emulate <spec>', "as root: emulated disks, e.g. 'volumes=4x500MB/s,backup=1x500MB/s' (see bench --emulate)")
    .option('--backup-dir <dir>', 'parent directory for the sample backups (the backup disk); default: beside --home')
    .option('--workers <n>', 'worker threads (default: the copy default)', intOpt('--workers'))
    .option('--disk-concurrency <n>', 'tasks running on a disk at once (default: the copy default)', intOpt('--disk-concurrency'))
    .option('--device-tolerance <pct>', 'with --emulate: allowed distance from the asked rate in the device check (default 5)')
    .option('--device-test-size <bytes>', 'with --emulate: size of the device check\'s test file per disk (default: about 3 s of data at the asked rate)')
    .option('--out <dir>', 'where to write the plan files', 'bench-results')
    .option('--label <label>', 'name part of the plan files (default: plan-<size>)')
    .addHelpText('after', '\n--home is the parent directory for the sample cluster homes (the volume disk; default: the OS temp dir); they are removed afterwards.')
    .action(
      action(async (ctx, o: Flags) => {
        const target = parseBytes(o.size);
        const samples = o.samples.split(',').map((s) => parseBytes(s.trim())).sort((a, b) => a - b);
        if (new Set(samples).size < 2) throw usage('--samples needs at least two different sizes, e.g. 0.5GB,1GB');
        if (samples[0]! < 1 << 20) throw usage('--samples: each sample must be at least 1MB');
        const tol = o.deviceTolerance === undefined ? undefined : Number(o.deviceTolerance.replace(/%$/, '')) / 100;
        if (tol !== undefined && !(tol > 0 && tol <= 0.5)) throw usage(`--device-tolerance must be a percentage between 0 and 50, got "${o.deviceTolerance}"`);
        const { plan, files } = await runPlan({
          target,
          samples,
          ...(o.validate ? { validate: parseBytes(o.validate) } : {}),
          ...(ctx.globals.home ? { home: ctx.globals.home } : {}),
          ...(o.backupDir ? { backupDir: o.backupDir } : {}),
          ...(o.emulate ? { emulate: parseEmulateSpec(o.emulate) } : {}),
          ...(o.workers ? { workers: o.workers } : {}),
          ...(o.diskConcurrency ? { diskConcurrency: o.diskConcurrency } : {}),
          ...(tol !== undefined ? { deviceTolerance: tol } : {}),
          ...(o.deviceTestSize ? { deviceTestBytes: parseBytes(o.deviceTestSize) } : {}),
          out: o.out,
          label: (o.label ?? `plan-${o.size.toLowerCase()}`).replace(/[^A-Za-z0-9_.-]+/g, '-'),
          argv: ['chunkvault', ...process.argv.slice(2)],
        });
        if (ctx.json) return printJson({ files, plan });
        printTable(plan.projections.map((p) => ({ operation: p.op, projected: dur(p.seconds), interval: `${dur(p.low)} – ${dur(p.high)}`, 'MB/s': p.mbPerSec, bound: p.bound.split(':')[0] })));
        process.stdout.write(`\n${formatBytes(target)} on ${plan.disks.kind === 'emulated' ? `EMULATED disks (${plan.disks.spec})` : 'the real disks'}, from samples of ${plan.samples.map((s) => formatBytes(s.bytes)).join(', ')}\nbottleneck: ${plan.bottleneck}\n`);
        if (plan.validation) process.stdout.write(`validation at ${formatBytes(plan.validation.sample.bytes)}: ${plan.validation.ops.map((v) => `${v.op} ${v.measured.toFixed(1)} s ${v.inside ? 'inside' : 'OUTSIDE'} [${v.low.toFixed(1)}, ${v.high.toFixed(1)}]`).join('; ')}\n`);
        process.stdout.write(`wrote ${files.json}\n      ${files.md}\n`);
      }),
    );
}
