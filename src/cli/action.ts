import type { Command } from 'commander';
import { usage } from '../common/errors.js';
import { Cluster, resolveHome } from '../store/index.js';
import { reportError, type GlobalOpts } from './output.js';
import { passwordSource } from './password.js';
import type { PasswordSource } from '../engine/index.js';

export interface Ctx {
  globals: GlobalOpts;
  json: boolean;
  home(): string;
  cluster(): Cluster;
  /** The repository password (--password-command, --password-file, $CHUNKVAULT_PASSWORD), read only when needed. */
  password: PasswordSource;
}

/**
 * Wraps a command's action: gives it the global options, and turns any thrown error into one line
 * on stderr and the documented exit status.
 */
export function action<A extends unknown[]>(fn: (ctx: Ctx, ...args: A) => Promise<number | void> | number | void) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const globals = cmd.optsWithGlobals() as GlobalOpts;
    const ctx: Ctx = {
      globals,
      json: !!globals.json,
      home: () => resolveHome(globals.home),
      cluster: () => new Cluster(resolveHome(globals.home)),
      // Both flags at once is a usage error, reported (like any error) when the password is needed.
      password: () => passwordSource({ file: globals.passwordFile, command: globals.passwordCommand })(),
    };
    try {
      const code = await fn(ctx, ...(args.slice(0, -1) as A));
      process.exitCode = code ?? 0;
    } catch (err) {
      process.exitCode = reportError(err, ctx.json);
    }
  };
}

export function intOpt(name: string, min = 1) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw usage(`${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}
