import path from 'node:path';
import { usage } from '../common/errors.js';
import { formatBytes, mbPerSec } from '../common/units.js';
import { backupAll, restoreAll, type BenchContext, type RepoVariant } from './bench-context.js';
import { initHome, removeHome } from './bench-layout.js';
import { discard } from './discard.js';

/**
 * The repository formats `--repo-variants` compares in one run (issue 12's speed goals): v1
 * against v2 without compression (≥ 0.95×), zstd's cost (default against off, ≤ 15 %) and
 * AES-256-GCM's (aes against v2 at the same level, ≤ 10 %). A password makes a new directory
 * encrypted; the key derivation (scrypt) runs in every command, as it does for an operator.
 */
export const REPO_VARIANTS: Record<string, RepoVariant> = {
  v1: { args: ['--repo-format', '1'], env: {} },
  'v2-off': { args: ['--repo-format', '2', '--compression', 'off'], env: {} },
  'v2-fast': { args: ['--repo-format', '2', '--compression', 'fast'], env: {} },
  v2: { args: ['--repo-format', '2', '--compression', 'default'], env: {} },
  'v2-aes-off': { args: ['--repo-format', '2', '--compression', 'off'], env: { CHUNKVAULT_PASSWORD: 'bench-password' } },
  'v2-aes': { args: ['--repo-format', '2', '--compression', 'default'], env: { CHUNKVAULT_PASSWORD: 'bench-password' } },
};

export function parseRepoVariants(v: string): string[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(n in REPO_VARIANTS)) throw usage(`unknown repository variant "${n}": expected ${Object.keys(REPO_VARIANTS).join(', ')}`);
  return names;
}

/** Phases `backup [variant]` and `restore [variant]` for each variant asked for, each into a fresh directory and home. */
export async function runVariantPhases(ctx: BenchContext, names: string[], tag: string): Promise<void> {
  const { mainWorkers: w, mainDc: d, log } = ctx;
  for (const name of names) {
    const variant = REPO_VARIANTS[name]!;
    const bak = path.join(ctx.layout.backupRoot, `variant-${name}`);
    discard(bak);
    const b = ctx.phases.get(`backup [${name}]`, `chunkvault backup-all (both databases, one process) ${[...variant.args, ...Object.keys(variant.env).map((k) => `${k}=…`)].join(' ')}`);
    const r = ctx.phases.get(`restore [${name}]`, `chunkvault migrate (both databases, one process) from the ${name} repository`);
    try {
      const run = await backupAll(ctx, bak, w, d, variant);
      b.add(run.run, run.bytes, run.detail);
      log(`backup [${name}] ${tag}: ${mbPerSec(run.bytes, run.run.seconds)} MB/s, stored ${formatBytes(run.detail.bytesStored)} of ${formatBytes(run.bytes)}`);
    } catch (err) {
      b.fail(err);
      r.skip('backup failed');
      continue;
    }
    const home = path.join(ctx.work, `restore-${name}`);
    try {
      initHome(home, ctx.layout.restoreVolumes('restore'));
      const res = await restoreAll(ctx, bak, home, ctx.mainRestoreWorkers, d, variant);
      r.add(res.run, res.bytes, res.detail);
      log(`restore [${name}] ${tag}: ${mbPerSec(res.bytes, res.run.seconds)} MB/s`);
    } catch (err) {
      r.fail(err);
    }
    removeHome(ctx.layout, home, 'restore');
    discard(bak);
  }
}
