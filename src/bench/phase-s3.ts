import fs from 'node:fs';
import path from 'node:path';
import { mbPerSec } from '../common/units.js';
import { removeS3Prefix, s3Spec, type S3Spec } from '../engine/index.js';
import type { BenchContext } from './bench-context.js';
import { coldData, ok, resticInit, runResticBackup, runResticRestore, syncFs } from './baselines.js';
import { addRuns, hasCommand, runTool, type RunSample } from './measure.js';
import { runChunkvaultPhases } from './phase-chunkvault.js';
import type { Goal, Measurement, Ratio } from './result.js';

/**
 * The S3 phases (`bench --backup-dir s3://bucket/prefix`, issue 13): chunkvault's backup, check
 * and restore against the bucket, and on the same files `rclone copy` up and down and restic
 * with an `s3:` repository, each with the client's CPU and the gateway's (gateway-cpu.ts). Every
 * object goes under `<prefix>/<the run's directory name>/`, removed when the run ends.
 */

const COMMANDS: Record<string, string> = {
  'rclone-up': 'rclone copy <each volume> s3:<prefix>/rclone-N/<i> --transfers 8',
  'rclone-down': 'rclone copy s3:<prefix>/rclone-N <dir> --transfers 8 && sync -f <dir>',
  'restic-backup': 'restic -r s3:<endpoint>/<bucket>/<prefix>/restic-N backup <volumes>',
  'restic-restore': 'restic -r s3:… restore latest --target <dir> && sync -f <dir>',
};

/** The run's own prefix under the URL the operator gave. */
export const s3RunRoot = (url: string, work: string) => `${url.replace(/\/+$/, '')}/${path.basename(work)}`;

/** rclone's remote `cvs3:` for the bucket, configured through the environment (no config file). */
function rcloneEnv(spec: S3Spec): Record<string, string> {
  return {
    RCLONE_CONFIG_CVS3_TYPE: 's3',
    RCLONE_CONFIG_CVS3_PROVIDER: spec.endpoint ? 'Other' : 'AWS',
    RCLONE_CONFIG_CVS3_REGION: spec.region,
    RCLONE_CONFIG_CVS3_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
    RCLONE_CONFIG_CVS3_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
    RCLONE_CONFIG_CVS3_FORCE_PATH_STYLE: String(spec.pathStyle),
    ...(spec.endpoint ? { RCLONE_CONFIG_CVS3_ENDPOINT: spec.endpoint } : {}),
    // rclone 1.60 fails on an AWS_CA_BUNDLE it cannot apply to its transport (LoadCustomCABundleError).
    AWS_CA_BUNDLE: '',
  };
}

/** `rclone copy` of each volume up, then of all of them back down (then sync -f), from cold caches. */
async function rclonePhases(ctx: BenchContext, spec: S3Spec, rep: number, up: (r: RunSample) => void, down: (r: RunSample) => void): Promise<void> {
  const env = rcloneEnv(spec);
  const remote = `cvs3:${spec.bucket}/${spec.prefix}rclone-${rep}`;
  const copy = async (from: string, to: string) => ok(await runTool('rclone', ['copy', from, to, '--transfers', '8'], env), 'rclone copy');
  await coldData('rclone');
  const ups: RunSample[] = [];
  for (const [i, v] of ctx.layout.volumes.entries()) ups.push(await copy(v, `${remote}/${i}`));
  up(addRuns(ups));
  const target = path.join(ctx.work, 'rclone-down');
  fs.mkdirSync(target, { recursive: true });
  try {
    await coldData('rclone');
    down(addRuns([await copy(remote, target), await syncFs(target)]));
  } finally {
    fs.rmSync(target, { recursive: true, force: true });
  }
}

/** restic with an `s3:` repository: backup of the volumes, then restore of it, from cold caches. */
async function resticPhases(ctx: BenchContext, spec: S3Spec, rep: number, backup: (r: RunSample) => void, restore: (r: RunSample) => void): Promise<void> {
  const host = spec.endpoint ?? `s3.${spec.region}.amazonaws.com`;
  const cache = path.join(ctx.work, 'restic-cache');
  const repo = await resticInit(`s3:${host}/${spec.bucket}/${spec.prefix}restic-${rep}`, cache);
  try {
    backup(await runResticBackup(repo, ctx.layout.volumes));
    restore(await runResticRestore(repo, ctx.layout.resticTarget));
  } finally {
    for (const p of [cache, ctx.layout.resticTarget]) fs.rmSync(p, { recursive: true, force: true });
  }
}

/** Runs one tool's pair of baselines into their records; a missing tool or a failure is recorded, not thrown. */
async function baselinePair(ctx: BenchContext, tool: 'rclone' | 'restic', names: [string, string], run: (a: (r: RunSample) => void, b: (r: RunSample) => void) => Promise<void>, tag: string, bytes: number): Promise<void> {
  const ms = names.map((n) => ctx.baselines.get(n, COMMANDS[n]!, tool));
  if (!hasCommand(tool)) return ms.forEach((m) => m.skip(`${tool} is not installed (e.g. apt-get install -y ${tool})`));
  const add = (i: number) => (r: RunSample) => {
    ms[i]!.add(r, bytes);
    ctx.log(`${names[i]} ${tag}: ${r.seconds.toFixed(2)} s (${mbPerSec(bytes, r.seconds)} MB/s)`);
  };
  try {
    await run(add(0), add(1));
  } catch (err) {
    ms.forEach((m) => m.fail(err));
    ctx.log(`${tool} failed: ${(err as Error).message}`);
  }
}

/** One repetition: chunkvault's phases into `<run root>/chunkvault-N`, then rclone and restic on the same files. */
export async function runS3Phases(ctx: BenchContext, url: string, rep: number, tag: string, datasetBytes: number): Promise<void> {
  const root = s3RunRoot(url, ctx.work);
  const spec = s3Spec(root);
  await runChunkvaultPhases(ctx, `${root}/chunkvault-${rep}`, tag);
  await baselinePair(ctx, 'rclone', ['rclone-up', 'rclone-down'], (up, down) => rclonePhases(ctx, spec, rep, up, down), tag, datasetBytes);
  await baselinePair(ctx, 'restic', ['restic-backup', 'restic-restore'], (b, r) => resticPhases(ctx, spec, rep, b, r), tag, datasetBytes);
}

/** chunkvault's MB/s over rclone's, per direction (restic's ratios come from computeRatios). */
export function s3Ratios(phases: Measurement[], baselines: Measurement[]): Ratio[] {
  const mb = (list: Measurement[], n: string) => list.find((m) => m.name === n && m.status === 'ok')?.median?.mbPerSec;
  const out: Ratio[] = [];
  for (const [phase, versus] of [['backup', 'rclone-up'], ['restore', 'rclone-down']] as const) {
    const ours = mb(phases, phase);
    const theirs = mb(baselines, versus);
    if (ours && theirs) out.push({ phase, versus: 'rclone', value: Math.round((ours / theirs) * 1000) / 1000 });
  }
  return out;
}

/** Issue 13's goals against the same gateway. */
export function s3Goals(ratios: Ratio[]): Goal[] {
  const goal = (text: string, phase: string, versus: string, target: number): Goal => {
    const v = ratios.find((r) => r.phase === phase && r.versus === versus)?.value ?? null;
    return { goal: text, measured: v, target, unit: 'x', met: v === null ? null : v >= target, detail: v === null ? `${phase} or ${versus} was not measured` : `${phase} MB/s ÷ ${versus} MB/s` };
  };
  return [goal('S3 backup ≥ 1.0× rclone copy (up)', 'backup', 'rclone', 1), goal('S3 backup ≥ 1.5× restic backup (s3:)', 'backup', 'restic', 1.5), goal('S3 restore ≥ 1.0× rclone copy (down)', 'restore', 'rclone', 1)];
}

/** Removes every object under the run's prefix (chunkvault's, rclone's and restic's); how many. */
export function removeS3Run(url: string, work: string): number {
  return removeS3Prefix(s3RunRoot(url, work));
}
