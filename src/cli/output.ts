import { EXIT, asCvError } from '../common/errors.js';

export interface GlobalOpts {
  home?: string;
  json?: boolean;
  /** Where a repository's password comes from (src/cli/password.ts). */
  passwordFile?: string;
  passwordCommand?: string;
}

/** Human output fits a terminal this wide; what does not fit goes on wrapped lines or only to --json. */
export const TEXT_WIDTH = 80;

const cell = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Prints rows as an aligned text table (human output). The `below` fields of each row (wide text
 * such as a job's description) go on their own lines under it, indented and wrapped to TEXT_WIDTH,
 * so the table stays narrow whatever their length.
 */
export function printTable(rows: Record<string, unknown>[], columns?: string[], below: string[] = []): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = columns ?? Object.keys(rows[0]!);
  // A loop, not Math.max(...rows): a spread of 100,000s of arguments can overflow the stack.
  const widths = cols.map((c) => rows.reduce((w, r) => Math.max(w, cell(r[c]).length), c.length));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd() + '\n';
  const out = batchedStdout();
  out.write(line(cols));
  out.write(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) {
    out.write(line(cols.map((c) => cell(r[c]))));
    for (const b of below) if (cell(r[b])) out.write(wrapText(cell(r[b]), TEXT_WIDTH, '  '));
  }
  out.flush();
}

/**
 * Text for stdout gathered and written once: a write per line cost `list` at 100,000 partitions
 * 100,000 write calls, and writes of 64 KiB to a pipe whose reader lagged were queued with their
 * buffers (peak RSS 261 MB against 203 MB for one write).
 */
function batchedStdout(): { write(s: string): void; flush(): void } {
  const parts: string[] = [];
  return {
    write: (s) => void parts.push(s),
    flush: () => void (parts.length && process.stdout.write(parts.join(''))),
  };
}

/** Word-wraps text to lines of at most `width` characters, each starting with `indent`; over-long words are cut. */
export function wrapText(text: string, width: number, indent = ''): string {
  const room = Math.max(8, width - indent.length);
  const lines: string[] = [];
  let cur = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > room) {
      if (cur) lines.push(cur);
      cur = '';
      lines.push(word.slice(0, room));
      word = word.slice(room);
    }
    if (cur && cur.length + 1 + word.length > room) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines.map((l) => `${indent}${l}\n`).join('');
}

export function printKeyValues(obj: Record<string, unknown>): void {
  const w = Math.max(...Object.keys(obj).map((k) => k.length));
  for (const [k, v] of Object.entries(obj)) process.stdout.write(`${k.padEnd(w)}  ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
}

/**
 * Decimals kept in JSON, by key, wherever the key appears (results, job records, their `result`):
 * durations to the millisecond, MB/s and percentages to one decimal. More digits are noise.
 */
export const JSON_DECIMALS: Readonly<Record<string, number>> = { seconds: 3, mbPerSec: 1, percent: 1, percentComplete: 1 };

function jsonValue(key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  return typeof v === 'number' && Object.hasOwn(JSON_DECIMALS, key) ? Number(v.toFixed(JSON_DECIMALS[key])) : v;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, jsonValue, 2) + '\n');
}

/**
 * printJson for a value that holds no bigint and no key of JSON_DECIMALS (list's rows), so the
 * replacer has nothing to do: JSON.stringify calls it for every value, 500,000 calls for `list` at
 * 100,000 partitions (~5% of its time).
 */
export function printPlainJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** ISO time as `2026-11-27 15:07:20` (UTC, like job ids) for narrow text columns. */
export function shortTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '';
}

/** One line on stderr and a documented exit status; --json also gets a machine-readable error. */
export function reportError(err: unknown, json: boolean): number {
  const cv = asCvError(err);
  const message = cv ? cv.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  const code = cv ? cv.exitCode : EXIT.INTERNAL;
  if (json) printJson({ error: { code: cv?.code ?? 'INTERNAL', exitCode: code, message: cv ? message : String(err) } });
  process.stderr.write(`chunkvault: ${cv ? '' : 'internal error: '}${message.split('\n')[0]}\n`);
  if (!cv && process.env.CHUNKVAULT_DEBUG) process.stderr.write(message + '\n');
  return code;
}
