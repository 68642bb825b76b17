import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { waitExit } from '../helpers/child.js';
import { rmTmp, scratchDir, sleep } from '../helpers/tmp.js';

/**
 * `key passwd` writes the new key file (durable) before it removes the old one, so a `kill -9` at
 * any moment must leave the old password or the new one opening the repository, never neither,
 * and never a key file that makes opening fail as CORRUPT. A rerun with a working password then
 * completes. Real processes, default scrypt, kills spread over one measured run.
 */
const PW = 'correct horse battery staple';
const NEW = 'tr0ub4dor&3';
let dir: string;
let n = 0;
beforeAll(() => (dir = scratchDir('passwd-kill')));
afterAll(() => rmTmp(dir));

const cli = (args: string[], pw: string) => runCli(args, { CHUNKVAULT_PASSWORD: pw, CHUNKVAULT_NEW_PASSWORD: NEW });

function encryptedRepo(): string {
  const d = path.join(dir, `r${n++}`);
  expect(cli(['repo', 'init', d], PW).code).toBe(0);
  return d;
}

/** Starts `key passwd` (PW → NEW) and kills it with SIGKILL after `ms`; whether it had already exited. */
async function passwdKilledAfter(d: string, ms: number): Promise<boolean> {
  const p = spawn(process.execPath, [CLI, 'key', 'passwd', d], { env: { ...process.env, CHUNKVAULT_HOME: undefined, CHUNKVAULT_PASSWORD: PW, CHUNKVAULT_NEW_PASSWORD: NEW }, stdio: 'ignore' });
  await sleep(ms);
  const finished = p.exitCode !== null;
  p.kill('SIGKILL');
  await waitExit(p);
  return finished;
}

describe('key passwd under kill -9', () => {
  it('a kill at any moment leaves the old or the new password working, and a rerun completes the change', async () => {
    const first = encryptedRepo();
    const t0 = performance.now();
    expect(cli(['key', 'passwd', first], PW).code).toBe(0);
    const full = performance.now() - t0;
    let killedInside = 0;
    for (const f of [0.3, 0.5, 0.7, 0.85, 1.0]) {
      const d = encryptedRepo();
      if (!(await passwdKilledAfter(d, full * f))) killedInside++;
      const codes = [cli(['repo', 'info', d], PW).code, cli(['repo', 'info', d], NEW).code];
      // 0 opens, 11 is a wrong password; anything else (7: a torn key file) would be a repository lost to a crash.
      for (const c of codes) expect([0, 11], `kill at ${f}: exit codes ${codes}`).toContain(c);
      expect(codes, `kill at ${f}: neither password opens`).toContain(0);
      // The rerun takes over the dead holder's keys lock.
      if (codes[0] === 0) expect(cli(['key', 'passwd', d], PW).code).toBe(0);
      expect(cli(['repo', 'info', d], NEW).code).toBe(0);
      expect(cli(['repo', 'info', d], PW).code).toBe(11);
    }
    // The spread must have put kills inside the command, not only after it.
    expect(killedInside).toBeGreaterThanOrEqual(2);
  });
});
