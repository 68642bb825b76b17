import { expect } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { ensureCeph, newBucket, removeBucket } from '../helpers/ceph.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

export const DB = 'dfs://testdb';

/** The CLI in `home`, with the test gateway's environment (set by ensureCeph). */
export function cv(home: string, args: string[], env: Record<string, string | undefined> = {}): CliResult {
  return runCli(['--home', home, ...args], env);
}

export function cvJson<T>(home: string, args: string[], code = 0, env: Record<string, string | undefined> = {}): T {
  const r = cv(home, [...args, '--json'], env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  return JSON.parse(r.stdout) as T;
}

export function digest(home: string, db: string): unknown {
  return cvJson(home, ['db', 'digest', db]);
}

/** A small quotes cluster (2 dates x 20 symbols, a few MB). */
export function smallCluster(home: string): void {
  cvJson(home, ['init']);
  cvJson(home, ['generate', '--dates', '2', '--symbols', '20', '--rows-per-symbol', '2000', '--workers', '1']);
}

/** What each S3 end-to-end file starts from: the gateway up, a fresh bucket and a small cluster in a scratch home. */
export async function s3Scene(tag: string): Promise<{ bucket: string; home: string }> {
  ensureCeph();
  const bucket = await newBucket(tag);
  const home = scratchDir(`s3-${tag}`);
  smallCluster(home);
  return { bucket, home };
}

/** Undoes s3Scene: the scratch home and the bucket with all it holds. */
export function endScene(bucket: string, home: string): void {
  rmTmp(home);
  removeBucket(bucket);
}
