import path from 'node:path';
import { CvError, usage } from '../common/errors.js';
import type { JobType } from '../engine/index.js';

/**
 * The long operations the API runs as background jobs, one entry per CLI command: its positional
 * arguments and flags, from which the request body's JSON schema, the OpenAPI document and the
 * job's command line all follow. Body keys are the CLI's names in camelCase (`--keep-dropped` is
 * `keepDropped`; repeatable `--table` is `tables`).
 */
export type FlagKind = 'boolean' | 'string' | 'integer' | 'number' | 'strings';

export interface OperationSpec {
  command: string;
  type: JobType;
  summary: string;
  /** Positional arguments in order; `?` marks an optional one. */
  args: string[];
  flags: Record<string, { flag: string; kind: FlagKind }>;
}

const PIPELINE = {
  workers: { flag: '--workers', kind: 'integer' },
  diskConcurrency: { flag: '--disk-concurrency', kind: 'integer' },
  maxRate: { flag: '--max-rate', kind: 'string' },
} as const;
const COPY = { ...PIPELINE, copyMethod: { flag: '--copy-method', kind: 'string' } } as const;
const BACKUP = { force: { flag: '--force', kind: 'boolean' }, skipIfUnchanged: { flag: '--skip-if-unchanged', kind: 'boolean' }, ...COPY } as const;
const AS_OF = { asOf: { flag: '--as-of', kind: 'string' } } as const;

export const OPERATIONS: OperationSpec[] = [
  { command: 'backup', type: 'BACKUP_BY_COPY_FILE', summary: 'back up a database (DolphinDB backup)', args: ['backupDir', 'dbPath'], flags: { ...BACKUP, keepDropped: { flag: '--keep-dropped', kind: 'boolean' }, tables: { flag: '--table', kind: 'strings' }, partitions: { flag: '--partition', kind: 'strings' } } },
  { command: 'backup-db', type: 'BACKUP_BY_COPY_FILE', summary: 'back up a whole database (backupDB)', args: ['backupDir', 'dbPath'], flags: { ...BACKUP } },
  { command: 'backup-table', type: 'BACKUP_BY_COPY_FILE', summary: 'back up one table (backupTable)', args: ['backupDir', 'dbPath', 'table'], flags: { ...BACKUP } },
  { command: 'restore', type: 'RESTORE_BY_COPY_FILE', summary: 'restore partitions matching a pattern (DolphinDB restore)', args: ['backupDir', 'dbPath', 'table', 'pattern'], flags: { ...AS_OF, ...COPY, force: { flag: '--force', kind: 'boolean' }, outputTable: { flag: '--output-table', kind: 'string' }, keepExtra: { flag: '--keep-extra', kind: 'boolean' } } },
  { command: 'restore-db', type: 'RESTORE_BY_COPY_FILE', summary: 'restore a whole database (restoreDB)', args: ['backupDir', 'dbPath', 'newDbPath?'], flags: { ...AS_OF, ...COPY } },
  { command: 'restore-table', type: 'RESTORE_BY_COPY_FILE', summary: 'restore one table (restoreTable)', args: ['backupDir', 'dbPath', 'table', 'newDbPath?', 'newTable?'], flags: { ...AS_OF, ...COPY } },
  { command: 'migrate', type: 'MIGRATE', summary: 'restore every database of a backup directory (migrate)', args: ['backupDir', 'dbPath?', 'table?', 'newDbPath?', 'newTable?'], flags: { ...AS_OF, ...COPY } },
  { command: 'check', type: 'CHECK', summary: 're-hash a restore point (checkBackup)', args: ['backupDir', 'dbPath'], flags: { ...AS_OF, ...PIPELINE, tables: { flag: '--table', kind: 'strings' }, partition: { flag: '--partition', kind: 'string' }, sample: { flag: '--sample', kind: 'number' }, maxDuration: { flag: '--max-duration', kind: 'number' }, strict: { flag: '--strict', kind: 'boolean' } } },
  { command: 'verify', type: 'CHECK', summary: 'verify a restored database against a restore point', args: ['backupDir', 'dbPath', 'targetDbPath?'], flags: { ...AS_OF, ...PIPELINE, tables: { flag: '--table', kind: 'strings' } } },
];

const argName = (a: string) => a.replace(/\?$/, '');
const JSON_TYPE: Record<FlagKind, object> = { boolean: { type: 'boolean' }, string: { type: 'string', maxLength: 4096 }, integer: { type: 'integer', minimum: 1 }, number: { type: 'number', exclusiveMinimum: 0 }, strings: { type: 'array', items: { type: 'string', maxLength: 4096 }, maxItems: 10000 } };

/** The request body's JSON schema: positional arguments and flags; no other key is accepted. */
export function bodySchema(op: OperationSpec): Record<string, unknown> {
  const properties: Record<string, object> = {};
  for (const a of op.args) properties[argName(a)] = { type: 'string', minLength: 1, maxLength: 4096 };
  for (const [k, f] of Object.entries(op.flags)) properties[k] = JSON_TYPE[f.kind];
  return { type: 'object', additionalProperties: false, required: op.args.filter((a) => !a.endsWith('?')), properties };
}

/** `keepDropped` as the CLI spells it: `--keep-dropped`; for messages about unknown keys. */
export const asFlag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Refuses path traversal in any value: a `..` component, a NUL byte, and (when the server has
 * repositories configured) a backup directory outside them. Names the key, in the CLI's words.
 */
export function checkValue(key: string, value: string, roots: string[]): string {
  if (value.includes('\0')) throw usage(`bad ${key} "${value.replace(/\0/g, '\\0')}": NUL bytes are not allowed`);
  if (value.split(/[\\/]+/).includes('..')) throw usage(`bad ${key} "${value}": '..' path components are not allowed`);
  if (key === 'backupDir' && roots.length) {
    const abs = path.resolve(value);
    if (!roots.some((r) => abs === r || abs.startsWith(r.endsWith('/') ? r : r + '/')))
      throw new CvError('USAGE', `bad backupDir "${value}": not inside a configured repository (${roots.join(', ')})`);
  }
  return value;
}

/** The CLI arguments for a validated body: positional arguments in order, then the flags. */
export function toArgs(op: OperationSpec, body: Record<string, unknown>, roots: string[]): string[] {
  const out: string[] = [op.command];
  const positional: string[] = [];
  let gap = false;
  for (const a of op.args) {
    const v = body[argName(a)];
    if (v === undefined) {
      gap = true;
      continue;
    }
    if (gap) throw usage(`${argName(a)} needs the arguments before it (${op.args.map(argName).join(', ')})`);
    if (String(v).startsWith('-')) throw usage(`bad ${argName(a)} "${String(v)}": a value may not start with '-'`);
    positional.push(checkValue(argName(a), String(v), roots));
  }
  for (const [k, f] of Object.entries(op.flags)) {
    const v = body[k];
    if (v === undefined || v === false) continue;
    if (f.kind === 'boolean') out.push(f.flag);
    else if (f.kind === 'strings') for (const s of v as string[]) out.push(f.flag, checkValue(k, s, roots));
    else out.push(f.flag, checkValue(k, String(v), roots));
  }
  return [out[0]!, ...positional, ...out.slice(1)];
}

/** The job's description, as the CLI's own (e.g. "backup dfs://testdb to /bak"). */
export function describeOp(op: OperationSpec, body: Record<string, unknown>): string {
  const vals = op.args.map((a) => body[argName(a)]).filter((v) => v !== undefined);
  return `${op.command} ${vals.join(' ')} (via the API)`;
}
