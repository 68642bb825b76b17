import path from 'node:path';
import { createRequire } from 'node:module';
import type { TransferListItem } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { CvError } from '../common/errors.js';
import { syncDirAsync } from '../common/fsio.js';
import { PIPELINE_DEFAULTS } from './defaults.js';
import { DiskQueue } from './disk-queue.js';
import { DiskSlots } from './disk-slots.js';
import { ProgressMeter } from './progress.js';
import { ByteCounter, CancelFlag, type WorkerShared } from './shared-state.js';
import { Throttle } from './throttle.js';
import type { CopyMethod, FileJob, FileResult, HashResult, UsedMethod, WorkerReply, WorkerTask } from './types.js';
import { poolEntry } from '../common/entry-points.js';

export interface CopyPipelineOptions {
  /** Worker threads; operations take theirs from applyDefaults (defaults.ts). */
  workers: number;
  /** Tasks holding a slot on one disk at once (DolphinDB: diskIOConcurrencyLevel). */
  diskConcurrency: number;
  /** Files and directories made on one disk at once (disk-slots.ts holdCreate); default 1. */
  createConcurrency?: number;
  /** Tasks holding a slot on one network endpoint (queue ids `net:…`) at once; default diskConcurrency. */
  netConcurrency?: number;
  /** Shared by all workers; 0 or absent = unlimited. Change it live with setRate(). */
  maxRateBytesPerSec?: number;
  method?: CopyMethod;
  /** Small files are batched into one task until this many bytes (default: PIPELINE_DEFAULTS). */
  batchBytes?: number;
  /** Also cap files per batch, so one task never runs thousands of opens before a cancel check. */
  batchFiles?: number;
  /** Bytes per read/write/hash block; the throttle and cancel act once per block. */
  blockSize?: number;
  /** Boot workers now, not on first use (true: every one; a number: that many), so a caller about to wait on something else hides their start-up. */
  eager?: boolean | number;
  /** Module task URLs (runModule) each worker imports as it boots, so a first task does not wait for them. */
  preload?: string[];
  /**
   * How far below the process's priority each worker thread runs (piscina's `niceIncrement`, through
   * its optional @napi-rs/nice), when the main thread is the operation's bottleneck (a restore).
   */
  workerNice?: number;
  /** Tasks per disk posted ahead, as a multiple of its limit, and each worker's own queue (default: PIPELINE_DEFAULTS.postAhead). */
  postAhead?: number;
}

/**
 * `auto` means `stream`. It is the only method that hashes in the same pass that copies, and that
 * is throttled, cancellable and reports progress per block; copy_file_range needs a second read to
 * hash, and on XFS/btrfs may silently share blocks, which a backup must not do unless asked.
 * Measured (2 vCPU VM, ext4, 2 workers, 512 MiB as 1x512 or 8x64 MiB, incl. fdatasync; noisy,
 * fdatasync dominates): warm cache stream 180-430 MiB/s vs copy-file-range 380-580; cold cache
 * stream 310-440 vs copy-file-range 290-380. No clear win for copy-file-range, so no reason to
 * give up one-pass hashing, throttling and cancellation.
 */
function resolveMethod(m: CopyMethod | undefined): UsedMethod {
  return !m || m === 'auto' ? 'stream' : m;
}

/**
 * The copy pipeline: batches files into piscina tasks, each holding a slot on its source and
 * target disks while it runs (disk-slots.ts; the disk queues here only bound how many are posted
 * ahead), with a shared rate limit, shared progress counter and cooperative cancel.
 */
export class CopyPipeline {
  private made: Piscina<WorkerTask, WorkerReply> | undefined;
  private readonly makePool: () => Piscina<WorkerTask, WorkerReply>;
  private readonly queue: DiskQueue;
  private readonly slots: DiskSlots;
  private readonly cancelFlag = new CancelFlag();
  private readonly counter = new ByteCounter();
  private readonly throttle = new Throttle();
  private readonly method: UsedMethod;
  private readonly batchBytes: number;
  private readonly batchFiles: number;
  /** The most worker threads it runs. */
  readonly workers: number;

  constructor(opts: CopyPipelineOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new CvError('USAGE', `workers must be >= 1, got ${opts.workers}`);
    this.workers = opts.workers;
    const net = opts.netConcurrency ?? opts.diskConcurrency;
    const limitFor = (id: string) => (id.startsWith('net:') ? net : opts.diskConcurrency);
    // The workers hold the limit (disk-slots.ts); the main thread posts up to postAhead times it.
    this.slots = new DiskSlots(limitFor, opts.createConcurrency ?? PIPELINE_DEFAULTS.createConcurrency);
    const postAhead = opts.postAhead ?? PIPELINE_DEFAULTS.postAhead;
    this.queue = new DiskQueue((id) => limitFor(id) * postAhead);
    this.method = resolveMethod(opts.method);
    this.batchBytes = opts.batchBytes ?? PIPELINE_DEFAULTS.batchBytes;
    this.batchFiles = opts.batchFiles ?? PIPELINE_DEFAULTS.batchFiles;
    if (opts.maxRateBytesPerSec) this.throttle.setRate(opts.maxRateBytesPerSec);
    const workerData: WorkerShared = {
      cancel: this.cancelFlag.sab,
      progress: this.counter.sab,
      throttle: this.throttle.sab,
      slots: this.slots.sab,
      blockSize: opts.blockSize ?? PIPELINE_DEFAULTS.blockSize,
      ...(opts.preload?.length ? { preload: opts.preload } : {}),
    };
    // Made on the first task, not here: an operation that copies nothing (a no-change backup-all)
    // then neither loads piscina nor boots a thread (that thread was ~0.2 CPU s of a 0.4 s run).
    // Unless eager: then made now, with every worker or that many booted.
    const boot = opts.eager === true ? opts.workers : Math.min(opts.workers, Number(opts.eager ?? 0));
    this.makePool = () => {
      const { Piscina: Pool } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
      return new Pool<WorkerTask, WorkerReply>({
        ...poolEntry('copy-worker'),
        minThreads: Math.max(1, boot),
        maxThreads: opts.workers,
        // Tasks wait in the worker's own queue, so it goes on while the main thread is busy.
        concurrentTasksPerWorker: postAhead,
        loadBalancer: spreadFirst(opts.workers, postAhead),
        niceIncrement: opts.workerNice ?? 0,
        idleTimeout: 30_000,
        workerData,
      });
    };
    if (boot > 0) this.made = this.makePool();
  }

  private get pool(): Piscina<WorkerTask, WorkerReply> {
    return (this.made ??= this.makePool());
  }

  /**
   * Copies every job's src to its dst (created exclusively; missing parents are created).
   * Results come back in input order. On the first failure no further batch starts, batches in
   * flight are told to stop, and once all have settled the first error is thrown; copied files
   * are left in place for the caller (who writes into a staging dir) to remove.
   * After the last file, each distinct dst directory is fsynced once. With `durable: false` (the
   * stream method only) neither the files nor the directories are synced: the caller makes them
   * durable together (restore's group commit).
   */
  async copyFiles(files: FileJob[], srcDisk: string, dstDisk: string, opts: { durable?: boolean } = {}): Promise<FileResult[]> {
    for (const f of files) if (!f.dst) throw new CvError('USAGE', `no destination given for ${f.src}`);
    const method = this.method;
    const sync = opts.durable !== false || method !== 'stream';
    const results = (await this.runBatches(files, [srcDisk, dstDisk], (batch, abort, slots) => ({ kind: 'copy', method, files: batch, abort, slots, creates: this.slots.indexOf(dstDisk), sync }))) as FileResult[];
    if (!sync) return results;
    const dirs = [...new Set(files.map((f) => path.dirname(f.dst!)))];
    // Directly, not as a pool task: queued behind other calls' copy batches it would delay this
    // call's commit by a whole wave of copies. A directory fsync is a short metadata flush.
    await Promise.all(dirs.map(syncDirAsync));
    return results;
  }

  /** Reads and hashes every job's src; bad files come back as records, never as a throw. */
  async hashFiles(files: FileJob[], disk: string): Promise<HashResult[]> {
    return (await this.runBatches(files, [disk], (batch, abort, slots) => ({ kind: 'hash', files: batch, abort, slots }))) as HashResult[];
  }

  /**
   * Runs one task of a module above io (its default export, see WorkerContext) in the pool,
   * holding a slot on each of `disks`. The repository's pack writer and reader run this way.
   * `transfer` moves what the payload holds (a MessagePort) to the worker instead of cloning it.
   * `createsOn`: the disk the task makes files and directories on; its WorkerContext.create then
   * makes them one worker at a time (disk-slots.ts holdCreate).
   */
  async runModule<T>(module: string, payload: unknown, disks: string[], transfer: readonly TransferListItem[] = [], createsOn?: string): Promise<T> {
    const abort = new CancelFlag();
    return this.queue.run(disks, async () => {
      if (this.cancelFlag.isSet) throw new CvError('CANCELLED', 'copy cancelled');
      const reply = await this.pool.run({ kind: 'module', module, payload, abort: abort.sab, slots: this.slots.indices(disks), ...(createsOn === undefined ? {} : { creates: this.slots.indexOf(createsOn) }) }, transfer.length ? { transferList: [...transfer] } : {});
      if (!reply.ok) throw new CvError(reply.code, reply.message);
      if (!('value' in reply)) throw new Error('internal: a module task replied without a value');
      return reply.value as T;
    });
  }

  /** Live rate change, obeyed by every worker within one block. 0 = unlimited. */
  setRate(bytesPerSec: number): void {
    this.throttle.setRate(bytesPerSec);
  }

  get rate(): number {
    return this.throttle.rate;
  }

  /** Stops every running and queued task at its next block; sticky for this pipeline's life. */
  cancel(): void {
    this.cancelFlag.set();
    this.throttle.wake();
  }

  get cancelled(): boolean {
    return this.cancelFlag.isSet;
  }

  /** Bytes read (and written, for copies) since the pipeline was made, across all calls. */
  get bytesDone(): number {
    return this.counter.value;
  }

  /** A meter over bytesDone, e.g. for a progress bar; `total` enables fraction and ETA. */
  meter(total?: number, windowMs?: number): ProgressMeter {
    const base = this.bytesDone;
    return new ProgressMeter(() => this.bytesDone - base, total, windowMs);
  }

  /** The most tasks ever running on `disk` at once. */
  maxInFlight(disk: string): number {
    return this.slots.maxObserved(disk);
  }

  async close(): Promise<void> {
    this.cancel();
    await this.made?.destroy();
  }

  private async runBatches(files: FileJob[], disks: string[], mk: (b: FileJob[], abort: SharedArrayBuffer, slots: number[]) => WorkerTask): Promise<(FileResult | HashResult)[]> {
    const abort = new CancelFlag(); // per call: a failure here must not cancel other calls
    let firstError: unknown;
    const batches = this.batch(files);
    const slots = this.slots.indices(disks);
    const settled = await Promise.allSettled(
      batches.map((b) =>
        this.queue.run(disks, async () => {
          if (this.cancelFlag.isSet || abort.isSet) throw new CvError('CANCELLED', 'copy cancelled');
          return this.unwrap(await this.pool.run(mk(b, abort.sab, slots)));
        }).catch((err: unknown) => {
          // Keep the root cause: batches stopped because of it report CANCELLED.
          if (firstError === undefined || isCancel(firstError)) firstError = err;
          abort.set();
          throw err;
        }),
      ),
    );
    if (firstError !== undefined) throw firstError;
    return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  }

  private unwrap(reply: WorkerReply): (FileResult | HashResult)[] {
    if (!reply.ok) throw new CvError(reply.code, reply.message);
    if (!('results' in reply)) throw new Error('internal: a copy task replied without results');
    return reply.results;
  }

  /** Groups files, in input order, into batches of up to batchBytes / batchFiles. */
  private batch(files: FileJob[]): FileJob[][] {
    const out: FileJob[][] = [];
    let cur: FileJob[] = [];
    let bytes = 0;
    for (const f of files) {
      const size = f.expectedSize ?? this.batchBytes; // unknown size: give it a batch of its own
      if (cur.length && (bytes + size > this.batchBytes || cur.length >= this.batchFiles)) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(f);
      bytes += size;
    }
    if (cur.length) out.push(cur);
    return out;
  }
}

const isCancel = (e: unknown) => e instanceof CvError && e.code === 'CANCELLED';

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * With several tasks allowed per worker, piscina's least-busy balancer ran a cold pool's first
 * tasks on fewer workers than it has (test/io/post-ahead.test.ts fails with it: 4 tasks, fewer
 * than 4 threads). This one starts every worker first (null while none is idle and fewer than
 * `workers` exist: piscina starts another), then picks an idle worker or the least busy below `ahead`.
 */
function spreadFirst(workers: number, ahead: number): Balancer {
  return (_task, ws) => {
    let best: (typeof ws)[number] | null = null;
    for (const w of ws) {
      if (w.terminating || w.destroyed) continue;
      if (w.currentUsage === 0) return w;
      if (w.currentUsage < ahead && (!best || w.currentUsage < best.currentUsage)) best = w;
    }
    return ws.length < workers ? null : best;
  };
}
