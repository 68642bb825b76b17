import { CvError, EXIT, asCvError } from '../common/errors.js';
import type { CopyPipeline, FilledPipelineOptions } from '../io/index.js';
import { runLimited, withPipeline, type Observer } from './options.js';

/** One database of an operation over several: its result, or why it failed. */
export type DatabaseOutcome<R> = { dbPath: string; result: R } | { dbPath: string; err: unknown };

export interface EachDatabase<R> {
  dbs: string[];
  /** Databases at once (PIPELINE_DEFAULTS.backupDatabases, checkDatabases). */
  limit: number;
  pipeline: FilledPipelineOptions;
  observer: Observer | undefined;
  /** Names the operation in a cancel's message, e.g. "backup-all". */
  name: string;
  /** The operation on one database, through the shared pipeline, reporting to `observer`. */
  run: (dbPath: string, observer: Observer, pipeline: CopyPipeline) => Promise<R>;
}

/**
 * Runs one operation per database, `limit` at a time, through one pipeline: one worker pool, one
 * queue per disk and one rate limit for all of them, so one database's last large files overlap
 * another's copies, and the process (Node, the pool) starts once instead of once per database.
 * The caller's observer gets one attach and one byte count: the pipeline's bytes against the sum
 * of the totals the databases have planned so far (each database's own byte calls only report its
 * total). A database that fails becomes a record with its error and the others carry on (rowsOf);
 * a cancel stops the lanes and is thrown.
 */
export async function eachDatabase<R>(x: EachDatabase<R>): Promise<DatabaseRow<R>[]> {
  const totals = new Map<string, number>();
  const sum = () => [...totals.values()].reduce((a, b) => a + b, 0);
  const outcomes = await withPipeline(x.pipeline, untilPlanned(x.observer), sum, async (pipeline) => {
    const settled = await settleEach(x.dbs, x.limit, pipeline, x.name, (dbPath) => {
      const inner: Observer = {
        plan: (tables) => x.observer?.plan?.(tables),
        partitionDone: (table) => x.observer?.partitionDone?.(table),
        bytes: (_done, total) => void totals.set(dbPath, total),
      };
      return x.run(dbPath, inner, pipeline);
    });
    return settled.map((r, i) => ({ dbPath: x.dbs[i]!, ...r }));
  });
  return rowsOf(outcomes);
}

/** The observer, given bytes only once some database has a total: a bar at "done of 0" would read 100%. */
export const untilPlanned = (observer: Observer | undefined): Observer | undefined => observer && { ...observer, bytes: (done, total) => void (total > 0 && observer.bytes?.(done, total)) };

/**
 * Runs `run` on every item, `limit` at a time, on a shared pipeline: an item's failure becomes its
 * outcome and the others carry on; a cancel stops the lanes and is thrown as "<name> cancelled".
 * Outcomes are in item order. migrate and eachDatabase share it.
 */
export async function settleEach<T, R>(items: T[], limit: number, pipeline: CopyPipeline, name: string, run: (item: T) => Promise<R>): Promise<({ result: R } | { err: unknown })[]> {
  const cancelled = () => new CvError('CANCELLED', `${name} cancelled`);
  const out: ({ result: R } | { err: unknown })[] = [];
  await runLimited([...items.keys()], limit, async (i) => {
    if (pipeline.cancelled) throw cancelled();
    try {
      out[i] = { result: await run(items[i]!) };
    } catch (err) {
      if (pipeline.cancelled) throw cancelled();
      out[i] = { err };
    }
  });
  return out;
}

/** A failed database's record: the `error` object a failing command prints with --json. */
export interface DatabaseError {
  code: string;
  exitCode: number;
  message: string;
}

export type DatabaseRow<R> = (R & { success: true }) | { dbPath: string; success: false; error: DatabaseError };

/**
 * The outcomes as one record per database. When every database failed the command failed: the
 * first failure is thrown (its one line and exit code, as the one-database command's). A missing or
 * wrong password is the directory's, never one database's, and is thrown too (exit 11, as migrate).
 */
function rowsOf<R>(outcomes: DatabaseOutcome<R>[]): DatabaseRow<R>[] {
  const failed = outcomes.filter((r): r is { dbPath: string; err: unknown } => 'err' in r);
  const key = failed.find((r) => r.err instanceof CvError && r.err.code === 'KEY');
  if (key) throw key.err;
  if (failed.length && failed.length === outcomes.length) throw failed[0]!.err;
  return outcomes.map((r) => ('err' in r ? { dbPath: r.dbPath, success: false, error: errorOf(r.err) } : { ...r.result, success: true }));
}

function errorOf(err: unknown): DatabaseError {
  const cv = asCvError(err);
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  return cv ? { code: cv.code, exitCode: cv.exitCode, message: cv.message.split('\n')[0]! } : { code: 'INTERNAL', exitCode: EXIT.INTERNAL, message };
}

/** The sum of `of` over the databases that succeeded. */
export function totalOf<R>(rows: DatabaseRow<R>[], of: (r: R) => number): number {
  return rows.reduce((a, r) => a + (r.success ? of(r as R) : 0), 0);
}
