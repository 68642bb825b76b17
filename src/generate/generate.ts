import os from 'node:os';
import { Piscina } from 'piscina';
import { conflict, usage } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { Cluster, createDatabase, createPartitionedTable, ensureChunks, hasDatabase, initCluster, isCluster, loadDatabase, stageVersion, valueDirName } from '../store/index.js';
import type { GenerateResult, GenerateTask } from './generate-worker.js';
import { BYTES_PER_ROW, FIRST_DATE, QUOTES_DBS, quotesScheme, symbolsByBucket } from './quotes.js';

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

/**
 * Builds the tutorial's databases. Each (date, bucket) partition is generated once in a worker and
 * written for all three tables; the main thread only places chunks and commits, so memory stays at
 * one partition per worker whatever the total size.
 */
export async function generateQuotes(home: string, opts: GenerateOptions = {}): Promise<GenerateSummary> {
  const symbols = opts.symbols ?? 500;
  const rowsPerSymbol = opts.rowsPerSymbol ?? 80_000;
  const seed = opts.seed ?? 1;
  for (const [k, v] of Object.entries({ symbols, rowsPerSymbol, seed }))
    if (!Number.isInteger(v) || v < (k === 'seed' ? 0 : 1)) throw usage(`--${k} must be a positive integer`);
  const dates = opts.size ? Math.max(1, Math.round(opts.size / bytesPerDate(symbols, rowsPerSymbol))) : (opts.dates ?? 2);
  if (!Number.isInteger(dates) || dates < 1) throw usage('--dates must be a positive integer');
  if (!isCluster(home)) initCluster(home);
  const c = new Cluster(home);
  for (const db of QUOTES_DBS) if (hasDatabase(c, db.dbPath)) throw conflict(`${db.dbPath} already exists in ${home}; generate into an empty home`);
  for (const db of QUOTES_DBS) {
    createDatabase(c, db.dbPath, db.engine, quotesScheme(dates));
    for (const t of db.tables) createPartitionedTable(c, db.dbPath, t);
  }
  const buckets = symbolsByBucket(symbols);
  const workers = opts.workers ?? Math.max(1, Math.min(os.availableParallelism(), 4));
  const pool = new Piscina({ filename: new URL('./generate-worker.js', import.meta.url).href, minThreads: workers, maxThreads: workers });
  const elapsed = stopwatch();
  const estBytes = dates * bytesPerDate(symbols, rowsPerSymbol);
  let bytes = 0, rows = 0, done = 0;
  let failure: unknown;
  const jobs: Promise<void>[] = [];
  const partPath = (d: number, b: number) => `/Key${b}/tp/${valueDirName('DATE', FIRST_DATE + d)}`;
  const allPaths = Array.from({ length: dates }, (_, d) => buckets.flatMap((syms, b) => (syms.length ? [{ path: partPath(d, b) }] : []))).flat();
  // Every chunk placed up front, with one catalog read per database rather than one per partition.
  const layout = QUOTES_DBS.map((db) => ({ db, def: loadDatabase(c, db.dbPath), chunks: ensureChunks(c, db.dbPath, allPaths) }));
  try {
    for (let d = 0; d < dates; d++) {
      const day = FIRST_DATE + d;
      for (let b = 0; b < buckets.length; b++) {
        if (!buckets[b]!.length) continue;
        const targets = layout.flatMap(({ db, def, chunks }) => {
          const chunk = chunks.get(partPath(d, b))!;
          return db.tables.map((t) => ({ stage: stageVersion(c, db.dbPath, chunk, t.name), engine: def.engine, table: def.tables[t.name]! }));
        });
        const task: GenerateTask = { seed, day, symbols: buckets[b]!, rowsPerSymbol, targets: targets.map(({ stage, engine, table }) => ({ dir: stage.dir, engine, table })) };
        const job = (pool.run(task) as Promise<GenerateResult>).then((res) => {
          res.written.forEach((w, i) => {
            targets[i]!.stage.commit(w);
            bytes += w.files.reduce((a, f) => a + f.size, 0);
          });
          rows += res.rows * targets.length;
          opts.onProgress?.(bytes, Math.max(estBytes, bytes));
          done++;
        }).catch((err) => {
          for (const t of targets) t.stage.abort(); // the committed ones stay
          failure ??= err;
        });
        jobs.push(job);
        // Keep at most two tasks per worker in flight so memory stays flat.
        if (jobs.length >= workers * 2) await jobs.shift();
        if (failure) break;
      }
      if (failure) break;
    }
    await Promise.all(jobs);
    if (failure) throw failure;
  } finally {
    await pool.destroy();
  }
  const seconds = elapsed();
  return { databases: QUOTES_DBS.map((d) => d.dbPath), dates, partitions: done, rows, bytes, seconds, mbPerSec: mbPerSec(bytes, seconds) };
}
