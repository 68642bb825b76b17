import { CvError, EXIT, fromSystemError } from '../common/errors.js';

export interface GlobalOpts {
  home?: string;
  json?: boolean;
}

/** Prints rows as an aligned text table (human output) */
export function printTable(rows: Record<string, unknown>[], columns?: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = columns ?? Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd() + '\n';
  process.stdout.write(line(cols));
  process.stdout.write(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) process.stdout.write(line(cols.map((c) => cell(r[c]))));
}

export function printKeyValues(obj: Record<string, unknown>): void {
  const w = Math.max(...Object.keys(obj).map((k) => k.length));
  for (const [k, v] of Object.entries(obj)) process.stdout.write(`${k.padEnd(w)}  ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

/** One line on stderr and a documented exit status; --json also gets a machine-readable error. */
export function reportError(err: unknown, json: boolean): number {
  // A system error that escaped without context (ENOSPC in a journal write, say) is still the operator's to fix.
  const sys = typeof (err as NodeJS.ErrnoException)?.code === 'string' && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
  const cv = err instanceof CvError ? err : sys ? fromSystemError(err, (err as NodeJS.ErrnoException).syscall ?? 'I/O') : undefined;
  const message = cv ? cv.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  const code = cv ? cv.exitCode : EXIT.INTERNAL;
  if (json) printJson({ error: { code: cv?.code ?? 'INTERNAL', exitCode: code, message: cv ? message : String(err) } });
  process.stderr.write(`chunkvault: ${cv ? '' : 'internal error: '}${message.split('\n')[0]}\n`);
  if (!cv && process.env.CHUNKVAULT_DEBUG) process.stderr.write(message + '\n');
  return code;
}
