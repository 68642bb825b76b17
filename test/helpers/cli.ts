import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The CLI as bin/chunkvault runs it: rolldown's bundle (src/common/entry-points.ts). */
export const CLI = path.join(ROOT, 'dist/bundle/cli.js');
/** The same CLI in tsc's layout, one module per source file: for tests of which modules a command loads. */
export const CLI_MODULES = path.join(ROOT, 'dist/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr split into non-empty lines. */
  errLines: string[];
}

function result(code: number | null, stdout: string, stderr: string): CliResult {
  return { code, stdout, stderr, errLines: stderr.split('\n').filter((l) => l.trim() !== '') };
}

/** Runs `node dist/bundle/cli.js ...args` as a child process (synchronously) with no TTY. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CHUNKVAULT_HOME: undefined, ...env },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return result(r.status, r.stdout, r.stderr);
}

/** The same, without blocking the test's event loop (for running several CLIs at once). */
export function runCliAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CHUNKVAULT_HOME: undefined, ...env } });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => resolve(result(code, out, err)));
  });
}

/** Runs the CLI with --json, expects exit 0, and parses stdout. */
export function cliJson<T = unknown>(args: string[]): T {
  const r = runCli([...args, '--json']);
  if (r.code !== 0) throw new Error(`chunkvault ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
