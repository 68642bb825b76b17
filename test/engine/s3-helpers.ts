import { expect } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';

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
