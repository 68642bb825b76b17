import os from 'node:os';
import { usage } from '../common/errors.js';
import type { CopyMethod } from './types.js';

/**
 * Every default of the copy pipeline is derived here and nowhere else, with the measurement that
 * chose it beside it (restic's archiver `applyDefaults`, piscina's `kDefaultOptions`). Operations
 * call applyDefaults once and pass the filled value down; the CLI's help and the bench read
 * PIPELINE_DEFAULTS. Measurements: bench-results/2026-11-27-*.md (2 vCPU AMD EPYC, one virtio disk,
 * ext4, Node 20, cold cache) and docs/PERFORMANCE.md.
 */

/**
 * `copy`: backup and copy: read, hash and write each file, waiting mostly on fdatasync.
 * `restore`: restore, restore-db, restore-table, migrate: a copy that makes every file it writes.
 * `hash`: check, verify: read and hash only, so bound by the CPU.
 */
export type PipelineKind = 'copy' | 'restore' | 'hash';

/** What a caller may set; anything left out is filled from PIPELINE_DEFAULTS. */
export interface PipelineOptions {
  /** Worker threads (piscina). */
  workers?: number;
  /** Tasks in flight per disk, like DolphinDB's diskIOConcurrencyLevel. */
  diskConcurrency?: number;
  /** Tasks in flight per network endpoint (an S3 repository's gateway): the network's per-disk queue. */
  netConcurrency?: number;
  /** Files and directories made on one disk at once (io disk-slots.ts holdCreate). */
  createConcurrency?: number;
  /** Shared rate limit in bytes per second; 0 = unlimited. */
  maxRate?: number;
  copyMethod?: CopyMethod;
}

/** PipelineOptions with every value resolved: what operations and the pipeline take. */
export interface FilledPipelineOptions {
  readonly kind: PipelineKind;
  readonly workers: number;
  readonly diskConcurrency: number;
  readonly netConcurrency: number;
  readonly createConcurrency: number;
  /** Bytes per second; 0 = unlimited. */
  readonly maxRate: number;
  readonly copyMethod: CopyMethod;
  /** Entries (one table of one partition) an operation keeps in flight ahead of the disk queues. */
  readonly inFlight: number;
  /** How far below the process's priority the workers run (0: at it); restoreDefaults sets PIPELINE_DEFAULTS.restoreWorkerNice. */
  readonly workerNice: number;
  /** Tasks per disk posted ahead, as a multiple of its limit (CopyPipelineOptions.postAhead). */
  readonly postAhead: number;
}

interface KindDefaults {
  /** A count, or one worker per core (os.availableParallelism()). */
  readonly workers: number | 'one per core';
  readonly diskConcurrency: number;
  readonly postAhead: number;
  readonly inFlight: (workers: number, diskConcurrency: number, postAhead: number) => number;
}

/**
 * Tasks per disk the main thread posts, as a multiple of the disk's limit, which the workers hold
 * (disk-slots.ts); each worker keeps up to this many in its own queue. A restore's main thread
 * blocks 0.1-0.3 s per group commit, and with one task per worker the workers waited ~1 s of a
 * 4.5 s run. Many shape, v2, cold migrate, 2 cores, alternating (docs/PERFORMANCE.md "Session 17"):
 * 8 ahead with 64 entries in flight against the build before (one task per worker, 16 in flight):
 * faster in 7 of 8 pairs, medians 4.69 -> 3.97 s; 4 ahead with 16 in flight gained less (4 of 6,
 * 4.36 -> 4.15 s); 16 and 128 no faster than 8 and 64 (4 pairs). Wide shape (2.2 GB, v1 and v2
 * restore) and the many shape's v2 backup-all: unchanged within the noise (3-5 pairs each).
 */
const POST_AHEAD = 8;
// Enough entries to fill every worker's own queue (POST_AHEAD) and as many again waiting on the
// main thread, so the workers go on while it publishes, journals or commits finished ones. Was four
// per worker; measured with POST_AHEAD above.
const fillQueues = (workers: number, _diskConcurrency: number, postAhead: number) => workers * postAhead * 2;

export const PIPELINE_DEFAULTS = {
  copy: {
    // 2026-11-27-sweep.md: 4 workers x 4 per disk beat 2 x 2 by ~10% (backup 308 -> 336 MB/s,
    // restore 335 -> 380 MB/s). A copy waits on fdatasync far more than on the CPU, so more copies
    // than cores keep the device busy.
    workers: 4,
    diskConcurrency: 4,
    postAhead: POST_AHEAD,
    inFlight: fillQueues,
  },
  restore: {
    // One worker per core, not copy's 4: a restore makes every file it writes, and this machine's
    // root ext4 (no journal) makes inodes one thread at a time whatever the threads (disk-slots.ts
    // holdCreate), so more workers than cores only added their start-up (~0.1 CPU s each) and V8's
    // compiles for each. Cold migrate, 2 cores, with creates taken in turn (docs/PERFORMANCE.md,
    // session 18): many shape v2, 5 rounds, medians 4 workers 4.14 s, 3 workers 3.91 s, 2 workers
    // 3.81 s, user CPU ~0.6 s less; wide shape (2.2 GB), 4 pairs each: v2 medians 3.71 / 3.71 s,
    // v1 3.76 (4) / 3.63 s (2).
    workers: 'one per core',
    diskConcurrency: 4,
    // Three times POST_AHEAD: with one create at a time per disk and a task's creates made in one
    // hold (repo/pack-read.ts), a worker's queue of 8 (~70 ms of the many shape's small files) ran
    // dry during each group commit. Many shape, v2, cold migrate, 6 pairs alternating: 24 faster in
    // 6, medians 4.19 -> 3.97 s (docs/PERFORMANCE.md, session 19).
    postAhead: 3 * POST_AHEAD,
    inFlight: fillQueues,
  },
  hash: {
    // Reading and hashing is CPU-bound: more workers than cores only contend (committed default
    // run on 2 cores: 4 workers 919 MB/s, 2 workers 1,083 MB/s).
    workers: 'one per core',
    diskConcurrency: 4,
    postAhead: POST_AHEAD,
    // Twice the slots the disk queues can grant, so a freed slot always has an entry waiting.
    // Not swept on its own; verify ran a fixed 8 before it shared this row.
    inFlight: (workers, diskConcurrency) => Math.max(4, workers * diskConcurrency * 2),
  },
  // Pack tasks in flight per S3 endpoint; each streams its pack as 16 MiB parts, 4 in flight
  // (repo/backend/s3.ts). Measured against the one-host Ceph (scripts/ceph-s3.sh), shared
  // machine, 64 MiB packs: one pack at a time 75-81 MiB/s PUT and ~100 MiB/s read back; the
  // Ceph notes measured 16 MiB objects at concurrency 8 at 132-211 MiB/s PUT. 4 tasks x 4 parts
  // keeps 16 requests on the gateway, past the point where it gains; not swept on its own yet.
  netConcurrency: 4,
  postAhead: POST_AHEAD,
  // Files and directories made on one disk at once, by any worker (disk-slots.ts holdCreate). This
  // machine's root ext4 has no journal, and there every new inode looks up its inode table block
  // under the device's mapping lock: the many shape's 28,000 files made from memory took 0.88-1.01 s
  // with 1 thread, 2.3-2.6 s (3.7-4.2 system CPU s) with 4 at once, 1.18-1.33 s with 4 taking turns
  // (scripts/create-floor.mjs, docs/PERFORMANCE.md "Session 18"). A journaled file system on more
  // cores may make names in parallel: raise it there, after measuring with that script.
  createConcurrency: 1,
  maxRate: 0, // unlimited unless asked: --max-rate protects production I/O, it is not a tuning default
  // `auto` is `stream`: the only method that hashes in the pass that copies (see copy-pipeline.ts).
  copyMethod: 'stream',
  // The worker's reused buffer stays in L2: cold check of 760 MB, 3 runs each, twice: 1 MiB
  // 1,060 MB/s vs 256 KiB 1,300 MB/s; backup unchanged (disk-bound).
  blockSize: 256 * 1024,
  // A piscina task costs ~75 us here, so small files share a task up to 8 MiB; at most 256 files,
  // so one task never runs thousands of opens before it looks at the cancel flag.
  batchBytes: 8 << 20,
  batchFiles: 256,
  // Restore and the v1 backup copy several small partitions per task (engine/batches.ts), up to
  // batchBytes and this many files: one task per partition made the main thread the many shape's
  // bottleneck (v1 backup, session 13, 4 pairs: 4.95-6.30 -> 4.28-4.62 s). Many shape, v2 off,
  // cold migrate, 3 pairs against one per task: up to 256 files 3.5-4.1 s vs 4.3-4.7 s; up to 64
  // 3.7-4.0 s vs 4.4-4.5 s, the same gain within the noise. 64 keeps a batch's time small: it joins
  // its commit group only once all of it is copied, and a failed batch is copied again one by one.
  restoreBatchFiles: 64,
  // Restore's group commit (engine/restore-group.ts), and the v1 backup's group durability with the
  // same limits (engine/backup-mirror.ts): copied partitions are published together
  // once this many (partition, table) stages or bytes are pending. One syncfs of 2,000 small
  // files took 35 ms here against 0.45–0.9 s for an fdatasync each (src/common/group-sync.ts).
  // Was 512: each group holds the main thread (two syncfs, a commit record) while the workers'
  // queues run dry. Many shape, v2, cold migrate, 6 pairs alternating: 1,024 faster in 5, medians
  // 4.11 -> 3.99 s (PERFORMANCE.md, session 19); 4 groups per database there, and a kill loses at
  // most one group (or commitGroupMs) of copying.
  commitGroupEntries: 1024,
  commitGroupBytes: 256 << 20,
  // ... or once its first stage waited 1 s: a throttled restore still commits as it goes. Not swept.
  commitGroupMs: 1000,
  // Restore kicks the volumes' writeback (common/group-sync.ts WritebackKicker) each time this many
  // more bytes were copied, looking every pollMs. Emulated seed disks (4 volumes + backup, 500 MB/s
  // each), 2.28 GB restore-db, cold, CPU 100% busy, 3 pairs: without kicks (and with the serial
  // `sync -f`) 236-262 MB/s, with 339-352 MB/s. 64 MiB (~1/8 s of the disk) is not swept.
  // A v2 backup kicks its local repository the same way (engine/backup-packs.ts; wide v2 `off`,
  // shared machine, 10 alternating pairs: engine median 7.89 s -> 7.69 s; faster in the 6 of 7 pairs
  // at load 8-14, slower in the 3 at load 16-18 where the CPU, not the disk, bounded the runs).
  // A v1 backup kicks its repository too (engine/backup.ts): emulated seed disks, 2 GB, shared
  // machine (cores 54-97% busy), 3 alternating bench runs: backup 5.58/4.67/6.04 s without,
  // 4.85/5.35/4.45 s with (faster in 2 of 3 pairs; the quiet run is in bench-results/README.md).
  writebackKickBytes: 64 << 20,
  writebackPollMs: 50,
  // A worker per this many bytes to copy or hash (engine/options.ts workersFor), up front in a
  // backup, at most with a known total: 30 MB backup-all, 3 rounds: 1-2 workers 0.89-1.05 s, 4 1.00-1.09.
  bootBytesPerWorker: 16 << 20,
  // migrate restores this many databases at once through its one pipeline, so one database's last
  // large files overlap another's copies. Emulated seed disks, quiet, both databases (2 GB): one
  // after the other (two restore-db) 355.6 MB/s, both at once 464.5 MB/s (bench-results/
  // 2026-11-28-emulated-seed-s5.md). Not more: each database holds its plan and its group committer.
  migrateDatabases: 2,
  // backup-all and a check of every database (engine/each-database.ts) run this many databases at
  // once through one pipeline, as migrate does; the one process saves a Node start and a pool boot
  // per database (quiet emulated seed run: one backup-db / check per database lost 0.32 s of ~4.3 s
  // outside the engine, bench-results/2026-11-28-emulated-seed-s5.md). Emulated seed disks, 2 GB,
  // shared machine, 3 alternating pairs each (docs/PERFORMANCE.md, "One process for every
  // database"): check of both at once 4.17-4.48 s wall against 4.24-4.45 s for one process per
  // database; backup-all 5.4-9.7 s at 2 at once and 6.4-8.3 s at 1 at a time, both slower than two
  // backup-db (4.3-5.5 s): not the concurrency. With 15-17 GB available instead of ~10 (2 pairs, no
  // reclaim seen): backup-all 4.63-4.69 s, 1.17 CPU s, against 4.94-5.62 s, 1.55-1.60 s. Not swept.
  backupDatabases: 2,
  checkDatabases: 2,
  // A restore's copy workers run this much nicer than the process (piscina's niceIncrement):
  // its main thread, which stages, posts and commits, is its bottleneck while the workers wait
  // ~60% of the time, and a woken worker took the core from it. Many shape, v2, cold migrate,
  // alternating on one build (2 cores): nice 0 medians 5.78 and 5.97 s, nice 10 5.04 and 5.29 s
  // (faster in 9 of 10), nice 5 5.66 s, nice 19 5.54 s. Wide shape (2.3 GB), 5 pairs: 4.59 ->
  // 4.37 s. A backup's workers are its bottleneck and keep nice 0 (nice 10: 3.49 -> 3.63 s).
  restoreWorkerNice: 10,
} as const satisfies { readonly [K in PipelineKind]: KindDefaults } & {
  readonly netConcurrency: number;
  readonly postAhead: number;
  readonly createConcurrency: number;
  readonly maxRate: number;
  readonly copyMethod: CopyMethod;
  readonly blockSize: number;
  readonly batchBytes: number;
  readonly batchFiles: number;
  readonly restoreBatchFiles: number;
  readonly commitGroupEntries: number;
  readonly commitGroupBytes: number;
  readonly commitGroupMs: number;
  readonly writebackKickBytes: number;
  readonly writebackPollMs: number;
  readonly bootBytesPerWorker: number;
  readonly migrateDatabases: number;
  readonly backupDatabases: number;
  readonly restoreWorkerNice: number;
  readonly checkDatabases: number;
};

/** The default as the CLI's help shows it, e.g. "4" or "one per core". */
export function describeDefault(kind: PipelineKind, key: 'workers' | 'diskConcurrency' | 'netConcurrency'): string {
  return String(key === 'netConcurrency' ? PIPELINE_DEFAULTS.netConcurrency : PIPELINE_DEFAULTS[kind][key]);
}

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw usage(`${name} must be a positive integer, got ${n}`);
  return n;
}

/** Fills every option an operation of this kind needs, checked once, before anything starts. */
export function applyDefaults(kind: PipelineKind, o: PipelineOptions = {}): FilledPipelineOptions {
  const d: KindDefaults = PIPELINE_DEFAULTS[kind];
  const workers = positiveInt('workers', o.workers, d.workers === 'one per core' ? os.availableParallelism() : d.workers);
  const diskConcurrency = positiveInt('disk concurrency', o.diskConcurrency, d.diskConcurrency);
  const netConcurrency = positiveInt('net concurrency', o.netConcurrency, PIPELINE_DEFAULTS.netConcurrency);
  const createConcurrency = positiveInt('create concurrency', o.createConcurrency, PIPELINE_DEFAULTS.createConcurrency);
  const maxRate = o.maxRate ?? PIPELINE_DEFAULTS.maxRate;
  if (!Number.isFinite(maxRate) || maxRate < 0) throw usage(`the rate limit must be 0 (none) or a positive number of bytes per second, got ${maxRate}`);
  return { kind, workers, diskConcurrency, netConcurrency, createConcurrency, maxRate, copyMethod: o.copyMethod ?? PIPELINE_DEFAULTS.copyMethod, inFlight: d.inFlight(workers, diskConcurrency, d.postAhead), workerNice: 0, postAhead: d.postAhead };
}

/** applyDefaults('restore') (restore, restore-db, restore-table, migrate): workers at a lower priority. */
export function restoreDefaults(o: PipelineOptions = {}): FilledPipelineOptions {
  return { ...applyDefaults('restore', o), workerNice: PIPELINE_DEFAULTS.restoreWorkerNice };
}

/**
 * `load` of CSV (src/dataio/load-parallel.ts): pieces of whole records parsed in worker threads.
 * One worker per core: parsing is CPU-bound, and the main thread (reading, routing, spilling) takes
 * the rest. Pieces of 1 MiB: a task costs ~75 us, so 1 GB is ~1,000 tasks (~75 ms of overhead), and
 * two pieces per worker read ahead keep each worker fed while the main thread adds the oldest
 * block; the read-ahead is workers x 2 x 1 MiB plus the blocks, whatever the file's size.
 */
export const DATAIO_DEFAULTS = {
  loadWorkers: 'one per core',
  // 1 GB of quotes CSV, 16 MB load buffer, 3 runs each on a shared machine: pieces of 2 MiB peak RSS
  // 255-265 MB at 7.3-7.7 user CPU s, 1 MiB 230-238 MB at 7.7-8.2 s, 512 KiB 223-231 MB at 8.2-8.5 s.
  chunkBytes: 1 << 20,
  inFlightPerWorker: 2,
  // A record (a row, or a quoted field) longer than this is an error rather than a read of the whole file.
  maxRecordBytes: 64 << 20,
  // Rows the store buffers before spilling them to the stages. 1 GB of quotes CSV (5 partitions),
  // 2 workers, spills written column by column from the buffered blocks, 3 runs each on a shared
  // machine: 32 MB peak RSS 282-293 MB, 16 MB 259-265 MB, 8 MB 247-262 MB, all at 7.1-7.3 user CPU s.
  // 16 MB leaves room under 300 MB at 10 GB, where the reading phase runs ten times as long.
  loadBufferBytes: 16_000_000,
} as const;

/** The parallel-load options from DATAIO_DEFAULTS, with `workers` if given (0: parse in the main thread). */
export function loadParallelism(workers?: number): { workers: number; chunkBytes: number; inFlight: number; maxRecordBytes: number } {
  const w = workers ?? os.availableParallelism();
  if (!Number.isInteger(w) || w < 0) throw usage(`workers must be 0 (parse in the main thread) or a positive integer, got ${w}`);
  const d = DATAIO_DEFAULTS;
  return { workers: w, chunkBytes: d.chunkBytes, inFlight: Math.max(2, w * d.inFlightPerWorker), maxRecordBytes: d.maxRecordBytes };
}

/**
 * `export` as CSV (src/dataio/export-parallel.ts): pieces of rows written as CSV lines in worker
 * threads, one per core (formatting is CPU-bound; the main thread reads, checks and writes). Pieces
 * of 32,768 rows (~2.5 MB of quotes CSV, ~1 MB of columns in), two per worker out at a time.
 */
export const EXPORT_DEFAULTS = {
  pieceRows: 32_768,
  inFlightPerWorker: 2,
} as const;

/** The parallel-export options, with `workers` if given (0: write CSV in the main thread). */
export function exportParallelism(workers?: number): { workers: number; pieceRows: number; inFlight: number } {
  const w = workers ?? os.availableParallelism();
  if (!Number.isInteger(w) || w < 0) throw usage(`workers must be 0 (write in the main thread) or a positive integer, got ${w}`);
  return { workers: w, pieceRows: EXPORT_DEFAULTS.pieceRows, inFlight: Math.max(2, w * EXPORT_DEFAULTS.inFlightPerWorker) };
}

/**
 * Backup into a v2 repository deduplicates files of at least this size whose size occurs more
 * than once in the run (docs/FORMAT.md, "Foreign blobs"). Each such file costs an open and a
 * 64-byte header read on the main thread, and a duplicate a full read of both files to confirm it.
 * The bench's duplicates (quotes_2 of the wide shape) are column files of several MiB; the many
 * shape's ~600-byte files would pay an open each for a saving below one write. Not swept.
 */
export const DEDUP_MIN_BYTES = 1 << 20;
