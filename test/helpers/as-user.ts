import { spawnSync } from 'node:child_process';
import { CLI } from './cli.js';
import { isRoot } from './tmp.js';

/** An unprivileged uid (nobody) for tests of permission errors: root reads everything. */
export const NOBODY = 65534;

/** Whether this suite can run the CLI as `uid`: it must be root, and uid must be able to read the checkout. */
export function canRunCliAs(uid: number): boolean {
  if (!isRoot) return false;
  return spawnSync(process.execPath, [CLI, '--version'], { uid, gid: uid, cwd: '/', timeout: 30_000 }).status === 0;
}

/** Why a test needing canRunCliAs is skipped. */
export const AS_USER_REASON = !isRoot ? 'skipped: needs root to run the CLI as another uid' : 'skipped: uid 65534 cannot read this checkout';

/** Runs `node dist/bundle/cli.js ...args` as uid (and gid = uid). */
export function runCliAs(uid: number, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { uid, gid: uid, encoding: 'utf8', cwd: '/', env: { ...process.env, CHUNKVAULT_HOME: undefined, HOME: '/tmp' }, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
