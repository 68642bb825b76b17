import type { ErrorCode } from '../common/errors.js';

/**
 * How bytes move. `stream` is one pass read -> xxh3 -> write -> fdatasync in a worker (throttled,
 * cancellable, progress per block). `copy-file-range` is fs.copyFileSync (libuv copy_file_range;
 * may silently reflink on XFS/btrfs) then a read-back to hash. `reflink` forces a clone and fails
 * where the file system cannot clone. `auto` resolves to `stream`, see copy-pipeline.ts.
 */
export type CopyMethod = 'auto' | 'stream' | 'copy-file-range' | 'reflink';
export type UsedMethod = Exclude<CopyMethod, 'auto'>;

export interface FileJob {
  src: string;
  /** Required for copies; ignored when hashing. */
  dst?: string;
  expectedSize?: number;
  /** 16 lowercase hex digits, as produced by this module. */
  expectedXxh3?: string;
}

export interface FileResult {
  src: string;
  dst?: string;
  size: number;
  xxh3: string;
  method: UsedMethod;
  /** The file's first bytes (up to 64), read in the same pass, for header checks. */
  head: Uint8Array;
}

export type HashProblem = 'missing' | 'size' | 'checksum' | 'symlink' | 'unreadable';

export interface HashResult {
  path: string;
  size: number;
  xxh3?: string;
  /** The file's first bytes (up to 64) when it could be read. */
  head?: Uint8Array;
  problem?: HashProblem;
  detail?: string;
}

/**
 * One piscina task. `abort` is a per-call flag: set when a sibling batch failed. A copy with
 * `sync: false` skips the per-file fdatasync (the caller makes the files durable together).
 * `slots`: the disks' slot indices (disk-slots.ts) the worker holds while the task runs.
 */
export type WorkerTask = { abort: SharedArrayBuffer; slots: number[]; creates?: number } & (
  | { kind: 'copy'; method: UsedMethod; files: FileJob[]; sync?: boolean }
  | { kind: 'hash'; files: FileJob[] }
  | { kind: 'module'; module: string; payload: unknown }
);

/**
 * What a module task (a layer above io that runs its own work in the pool, such as the
 * repository's pack writer) gets from the worker: its reused buffer, the shared throttle, cancel
 * and progress. The module's default export is `(payload, ctx) => result`, synchronous.
 */
export interface WorkerContext {
  readonly buf: Buffer;
  stopped(): boolean;
  /** Waits for `bytes` of the shared rate; false when cancelled meanwhile. */
  acquire(bytes: number): boolean;
  progress(bytes: number): void;
  /** Makes a file or directory on the task's target disk, one thread at a time (disk-slots.ts holdCreate). */
  create<T>(make: () => T): T;
}
/** May return a promise: the worker starts its next task only once it settles (copy-worker.ts). */
export type ModuleTask = (payload: unknown, ctx: WorkerContext) => unknown;

/**
 * Errors cross the thread boundary as data: structured clone drops a custom class and its `code`,
 * so the worker reports {code, message} and the main thread rebuilds the CvError.
 */
export type WorkerReply =
  | { ok: true; results: FileResult[] | HashResult[] }
  | { ok: true; value: unknown }
  | { ok: false; code: ErrorCode; message: string };
