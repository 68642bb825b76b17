import os from 'node:os';
import { Piscina } from 'piscina';
import { conflict, usage } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { WritebackKicker } from '../common/group-sync.js';
import { PIPELINE_DEFAULTS } from '../io/index.js';
import { Cluster, createDatabase, createPartitionedTable, hasDatabase, initCluster, isCluster, loadDatabase, placeChunks, stageVersion, valueDirName, type Stage, type StreamTarget } from '../store/index.js';
import type { GenerateResult, GenerateTask } from './generate-worker.js';
import { PartitionCommits } from './partition-commits.js';
import { BYTES_PER_ROW, FIRST_DATE, QUOTES_DBS, quotesScheme, symbolsByBucket } from './quotes.js';
import { poolEntry } from '../common/entry-points.js';

export interface GenerateOptions {
  dates?: number;
  symbols?: number;
  rowsPerSymbol?: number;
  /** Target size in bytes; picks the number of dates (overrides dates). */
  size?: number;
  seed?: number;
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GenerateSummary {
  databases: string[];
  dates: number;
  partitions: number;
  rows: number;
  bytes: number;
  seconds: number;
  mbPerSec: number;
}

const TABLE_COUNT = QUOTES_DBS.reduce((a, d) => a + d.tables.length, 0);

/** Bytes one date adds across all three tables. */
export const bytesPerDate = (symbols: number, rowsPerSymbol: number) => symbols * rowsPerSymbol * BYTES_PER_ROW * TABLE_COUNT;

/** One table's stage of a (date, bucket) partition: a partition has one per table of each database. */
interface TableStage {
  db: string;
  stage: Stage;
  target: StreamTarget;
}

/**
 * Builds the tutorial's databases. Each (date, bucket) partition is generated once in a worker and
 * written for all three tables; the main thread only places chunks and commits, so memory stays at
 * one partition per worker whatever the total size. The workers write without an fdatasync per
 * file: the kernel's writeback is kicked as they go (common/group-sync.ts WritebackKicker) and
 * the partitions are committed in groups (partition-commits.ts).
 */
export async function generateQuotes(home: string, opts: GenerateOptions = {}): Promise<GenerateSummary> {
  const { symbols, rowsPerSymbol, seed, dates } = checkOptions(opts);
  if (!isCluster(home)) initCluster(home);
  const c = new Cluster(home);
  for (const db of QUOTES_DBS) if (hasDatabase(c, db.dbPath)) throw conflict(`${db.dbPath} already exists in ${home}; generate into an empty home`);
  for (const db of QUOTES_DBS) {
    createDatabase(c, db.dbPath, db.engine, quotesScheme(dates));
    for (const t of db.tables) createPartitionedTable(c, db.dbPath, t);
  }
  const buckets = symbolsByBucket(symbols);
  const workers = opts.workers ?? Math.max(1, Math.min(os.availableParallelism(), 4));
  const pool = new Piscina({ ...poolEntry('generate-worker'), minThreads: workers, maxThreads: workers });
  const elapsed = stopwatch();
  const estBytes = dates * bytesPerDate(symbols, rowsPerSymbol);
  const partPath = (d: number, b: number) => `/Key${b}/tp/${valueDirName('DATE', FIRST_DATE + d)}`;
  const allPaths = Array.from({ length: dates }, (_, d) => buckets.flatMap((syms, b) => (syms.length ? [{ path: partPath(d, b) }] : []))).flat();
  // Every chunk placed up front, with one catalog read per database rather than one per partition;
  // the catalog gets each chunk with its first commit, and the new directories are made durable
  // off the event loop while the workers start (placeChunks).
  const layout = QUOTES_DBS.map((db) => ({ db, def: loadDatabase(c, db.dbPath), ...placeChunks(c, db.dbPath, allPaths) }));
  const stagesOf = (d: number, b: number): TableStage[] =>
    layout.flatMap(({ db, def, chunks }) => {
      const chunk = chunks.get(partPath(d, b))!;
      return db.tables.map((t) => {
        const stage = stageVersion(c, db.dbPath, chunk, t.name, def);
        return { db: db.dbPath, stage, target: { dir: stage.dir, engine: def.engine, table: def.tables[t.name]! } };
      });
    });
  // Bytes the workers have written so far (a hint for the writeback kicks).
  const written = new BigInt64Array(new SharedArrayBuffer(8));
  const kicker = new WritebackKicker(c.volumes.map((v) => v.path), () => Number(Atomics.load(written, 0)), PIPELINE_DEFAULTS.writebackKickBytes, PIPELINE_DEFAULTS.writebackPollMs);
  const commits = new PartitionCommits(c, Promise.all(layout.map((l) => l.durable)).then(() => undefined));
  let bytes = 0, rows = 0, done = 0;
  let failure: unknown;
  const jobs: Promise<void>[] = [];
  try {
    for (let d = 0; d < dates && !failure && commits.failure === undefined; d++) {
      for (let b = 0; b < buckets.length && !failure && commits.failure === undefined; b++) {
        if (!buckets[b]!.length) continue;
        const stages = stagesOf(d, b);
        const task: GenerateTask = { seed, day: FIRST_DATE + d, symbols: buckets[b]!, rowsPerSymbol, targets: stages.map((s) => s.target), written };
        const job = (pool.run(task) as Promise<GenerateResult>).then((res) => {
          res.written.forEach((w) => (bytes += w.files.reduce((a, f) => a + f.size, 0)));
          for (const db of QUOTES_DBS) commits.add(db.dbPath, stages.flatMap((s, i) => (s.db === db.dbPath ? [{ stage: s.stage, staged: res.written[i]! }] : [])));
          rows += res.rows * stages.length;
          opts.onProgress?.(bytes, Math.max(estBytes, bytes));
          done++;
        }).catch((err) => {
          for (const s of stages) s.stage.abort(); // the committed ones stay
          failure ??= err;
        });
        jobs.push(job);
        // Keep at most two tasks per worker in flight so memory stays flat.
        if (jobs.length >= workers * 2) await jobs.shift();
      }
    }
    await Promise.all(jobs);
    await commits.settled();
    failure ??= commits.failure;
    if (failure) throw failure;
  } finally {
    await Promise.all([pool.destroy(), kicker.stop()]);
  }
  const seconds = elapsed();
  return { databases: QUOTES_DBS.map((d) => d.dbPath), dates, partitions: done, rows, bytes, seconds, mbPerSec: mbPerSec(bytes, seconds) };
}

function checkOptions(opts: GenerateOptions): { symbols: number; rowsPerSymbol: number; seed: number; dates: number } {
  const symbols = opts.symbols ?? 500;
  const rowsPerSymbol = opts.rowsPerSymbol ?? 80_000;
  const seed = opts.seed ?? 1;
  for (const [k, v] of Object.entries({ symbols, rowsPerSymbol, seed }))
    if (!Number.isInteger(v) || v < (k === 'seed' ? 0 : 1)) throw usage(`--${k} must be a positive integer`);
  const dates = opts.size ? Math.max(1, Math.round(opts.size / bytesPerDate(symbols, rowsPerSymbol))) : (opts.dates ?? 2);
  if (!Number.isInteger(dates) || dates < 1) throw usage('--dates must be a positive integer');
  return { symbols, rowsPerSymbol, seed, dates };
}
