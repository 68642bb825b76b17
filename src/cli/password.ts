import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { keyError, usage } from '../common/errors.js';
import type { PasswordSource } from '../engine/index.js';

/**
 * Where a repository password comes from (docs/CLI.md, "Passwords"), first match wins:
 *   1. `--password-command CMD`: run with /bin/sh -c; its stdout, less one trailing newline
 *      (stdin and stderr stay the terminal's, so a prompt such as pinentry works);
 *   2. `--password-file FILE`: the file's content, less one trailing newline;
 *   3. `$CHUNKVAULT_PASSWORD`.
 * Giving both flags is a usage error. The new password of `key add|passwd` comes the same way from
 * `--new-password-command`, `--new-password-file` and `$CHUNKVAULT_NEW_PASSWORD`; the target's of
 * `copy` from `--to-password-command`, `--to-password-file` and `$CHUNKVAULT_TO_PASSWORD` (the
 * source's is the repository password above).
 * A source that fails (unreadable file, command exiting non-zero, empty password) is KEY (exit
 * 11), like a missing password; the password itself is never printed, nor the command's output.
 */
export interface PasswordFlags {
  file?: string;
  command?: string;
}

const MAX_PASSWORD_BYTES = 64 * 1024;
const COMMAND_TIMEOUT_MS = 120_000;

const chomp = (s: string) => s.replace(/\r?\n$/, '');

function fromFile(file: string, what: string): string {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_PASSWORD_BYTES) throw new Error('larger than 64 KiB');
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw keyError(`cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pw = chomp(text);
  if (!pw) throw keyError(`the ${what} file ${file} is empty`);
  return pw;
}

function fromCommand(cmd: string, what: string): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_PASSWORD_BYTES });
  if (r.error) throw keyError(`the ${what} command failed: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status !== 0) throw keyError(`the ${what} command exited with ${r.status === null ? `signal ${r.signal}` : `status ${r.status}`}`);
  const pw = chomp(r.stdout);
  if (!pw) throw keyError(`the ${what} command printed no password`);
  return pw;
}

function source(flags: PasswordFlags, env: string, what: string, flagNames: [string, string]): PasswordSource {
  if (flags.file !== undefined && flags.command !== undefined) throw usage(`give ${flagNames[0]} or ${flagNames[1]}, not both`);
  return () => {
    if (flags.command !== undefined) return fromCommand(flags.command, what);
    if (flags.file !== undefined) return fromFile(flags.file, what);
    const v = process.env[env];
    return v === undefined || v === '' ? undefined : v;
  };
}

/** The repository password; read only when the repository turns out to need it. */
export function passwordSource(flags: PasswordFlags): PasswordSource {
  return source(flags, 'CHUNKVAULT_PASSWORD', 'password', ['--password-file', '--password-command']);
}

/** The new password of `key add` and `key passwd`. */
export function newPasswordSource(flags: PasswordFlags): PasswordSource {
  return source(flags, 'CHUNKVAULT_NEW_PASSWORD', 'new password', ['--new-password-file', '--new-password-command']);
}

/** The target repository's password of `copy`. */
export function toPasswordSource(flags: PasswordFlags): PasswordSource {
  return source(flags, 'CHUNKVAULT_TO_PASSWORD', 'target password', ['--to-password-file', '--to-password-command']);
}
