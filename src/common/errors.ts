/**
 * Every failure the operator can cause or meet has a code, and every code maps to one documented
 * process exit status (docs/CLI.md). Anything else is a bug and exits 1.
 */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  LOCKED: 5,
  IO: 6,
  CORRUPT: 7,
  CHECK_FAILED: 8,
  CANCELLED: 9,
  PARTIAL: 10,
  KEY: 11,
} as const;

export type ErrorCode =
  | 'USAGE' // bad argument, bad pattern, bad size, a value that does not fit its column
  | 'NOT_FOUND' // path, database, table, partition, restore point, job
  | 'CONFLICT' // scheme/engine/schema mismatch, target exists
  | 'LOCKED' // lock held by a live process
  | 'IO' // disk full, unreadable source, permission denied
  | 'CORRUPT' // checksum/size mismatch, hostile or malformed backup
  | 'CHECK_FAILED'
  | 'CANCELLED'
  | 'PARTIAL'
  | 'KEY'; // an encrypted repository and no password, or a password that opens none of its keys

export class CvError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CvError';
  }
  get exitCode(): number {
    return EXIT[this.code];
  }
}

export const usage = (msg: string) => new CvError('USAGE', msg);
export const notFound = (msg: string) => new CvError('NOT_FOUND', msg);
export const conflict = (msg: string) => new CvError('CONFLICT', msg);
export const corrupt = (msg: string) => new CvError('CORRUPT', msg);
export const keyError = (msg: string) => new CvError('KEY', msg);

/** Turns a Node system error into a one-line CvError that names the path and the cause. */
export function fromSystemError(err: unknown, what: string): CvError {
  if (err instanceof CvError) return err;
  const e = err as NodeJS.ErrnoException;
  const path = e.path ? ` ${e.path}` : '';
  switch (e.code) {
    case 'ENOENT':
      return new CvError('NOT_FOUND', `${what}: no such file or directory${path}`);
    case 'ENOSPC':
      return new CvError('IO', `${what}: no space left on device${path}`);
    case 'EDQUOT':
      return new CvError('IO', `${what}: disk quota exceeded${path}`);
    case 'EACCES':
    case 'EPERM':
      return new CvError('IO', `${what}: permission denied${path}`);
    case 'EROFS':
      return new CvError('IO', `${what}: read-only file system${path}`);
    case 'EIO':
      return new CvError('IO', `${what}: I/O error${path}`);
    case 'ELOOP':
      return new CvError('CORRUPT', `${what}: refusing to follow a symbolic link${path}`);
    default:
      return new CvError('IO', `${what}: ${e.message ?? String(err)}`);
  }
}

/**
 * The CvError an error stands for: itself, or a system error (EACCES, ENOSPC, …) that escaped
 * without context, which is still the operator's to fix; undefined for anything else (a bug). The
 * CLI's exit status and a job's recorded exitCode both come from here, so they cannot disagree.
 */
export function asCvError(err: unknown): CvError | undefined {
  if (err instanceof CvError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  return typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) ? fromSystemError(err, e.syscall ?? 'I/O') : undefined;
}

/** Runs a syscall, turning a system error into a one-line CvError saying what was being done. */
export function guard<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (err) {
    throw fromSystemError(err, what);
  }
}
