import fs from 'node:fs';
import path from 'node:path';
import { addRuns, dropCaches, hasCommand, runTool, type ChildRun, type RunSample } from './measure.js';
import { discard } from './discard.js';

export const BASELINES = ['cp', 'rsync', 'restic'] as const;
export type BaselineName = (typeof BASELINES)[number];

/** Why a baseline cannot run here (null when it can). */
export function baselineUnavailable(name: BaselineName): string | null {
  const cmd = name === 'cp' ? 'cp' : name;
  if (!hasCommand(cmd)) return `${cmd} is not installed (e.g. apt-get install -y ${cmd === 'cp' ? 'coreutils' : cmd})`;
  if (!hasCommand('sync')) return 'sync is not installed';
  return null;
}

/** Drop the page cache, then load the tool once (untimed) so only the data is cold, as for chunkvault. */
export async function coldData(tool: string): Promise<void> {
  dropCaches();
  await runTool(tool, [tool === 'restic' ? 'version' : '--version']);
}

export function ok(r: ChildRun, what: string): ChildRun {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r;
}

/** `sync -f dir`: flushes the file system holding dir, so the copy's time includes reaching the disk. */
export async function syncFs(dir: string): Promise<ChildRun> {
  return ok(await runTool('sync', ['-f', dir]), 'sync');
}

/** `cp -r <sources> <dst>/` then `sync`, from a cold cache. */
export async function runCp(sources: string[], dst: string): Promise<RunSample> {
  fs.mkdirSync(dst, { recursive: true });
  await coldData('cp');
  return addRuns([ok(await runTool('cp', ['-r', ...sources, dst + '/']), 'cp -r'), await syncFs(dst)]);
}

/** `rsync -a <sources> <dst>/` then `sync` (rsync does not fsync by default), from a cold cache. */
export async function runRsync(sources: string[], dst: string): Promise<RunSample> {
  fs.mkdirSync(dst, { recursive: true });
  await coldData('rsync');
  return addRuns([ok(await runTool('rsync', ['-a', ...sources, dst + '/']), 'rsync -a'), await syncFs(dst)]);
}

export interface ResticRepo {
  repo: string;
  cacheDir: string;
}

const resticEnv = { RESTIC_PASSWORD: 'chunkvault-bench' };

/** An S3 repository (`s3:endpoint/bucket/prefix`): nothing to remove or sync -f locally. */
const remote = (repo: string) => repo.startsWith('s3:');

/** `restic init` of a fresh repository, local or S3 (not timed). */
export async function resticInit(repo: string, cacheDir: string): Promise<ResticRepo> {
  if (!remote(repo)) discard(repo);
  ok(await runTool('restic', ['init', '--repo', repo, '--cache-dir', cacheDir, '-q'], resticEnv), 'restic init');
  return { repo, cacheDir };
}

/** `restic backup` of the sources into the repository, then `sync` (a local one), from a cold cache. */
export async function runResticBackup(r: ResticRepo, sources: string[]): Promise<RunSample> {
  await coldData('restic');
  const run = ok(await runTool('restic', ['backup', '--repo', r.repo, '--cache-dir', r.cacheDir, '-q', ...sources], resticEnv), 'restic backup');
  return addRuns(remote(r.repo) ? [run] : [run, await syncFs(r.repo)]);
}

/** `restic restore latest` into target, then `sync`, from a cold cache. */
export async function runResticRestore(r: ResticRepo, target: string): Promise<RunSample> {
  discard(target);
  fs.mkdirSync(target, { recursive: true });
  await coldData('restic');
  return addRuns([ok(await runTool('restic', ['restore', 'latest', '--repo', r.repo, '--cache-dir', r.cacheDir, '--target', target, '-q'], resticEnv), 'restic restore'), await syncFs(target)]);
}

/** The plain read `check` is judged against: every file under dir through `cat > /dev/null`, cold. */
export async function runPlainRead(dir: string): Promise<RunSample> {
  await coldData('cat');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return ok(await runTool(`find ${q(path.resolve(dir))} -type f -print0 | xargs -0 -r cat > /dev/null`, [], {}, true), 'plain read');
}
