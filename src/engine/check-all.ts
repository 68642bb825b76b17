import { notFound } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { PIPELINE_DEFAULTS, applyDefaults } from '../io/index.js';
import { listRepositories } from '../repo/repository.js';
import { once } from '../repo/settings.js';
import { checkBackup, type BadChunk, type CheckOptions, type CheckResult } from './check.js';
import { eachDatabase, rowsOf, succeeded, type DatabaseRow } from './each-database.js';

/** check's options for every database of a backup directory (no --table: tables are per database). */
export type CheckAllOptions = Omit<CheckOptions, 'dbPath' | 'tables'>;

export type CheckAllRow = DatabaseRow<CheckResult>;

/** One record per database, and the totals of the ones checked. */
export interface CheckAllResult {
  databases: CheckAllRow[];
  /** Every checked database's bad chunks (each names its dbName). */
  bad: BadChunk[];
  entriesChecked: number;
  entriesInScope: number;
  filesChecked: number;
  bytesChecked: number;
  seconds: number;
  mbPerSec: number;
}

/**
 * check of every database in a backup directory, in one process: each database is checkBackup's
 * own run (its lock, its cursor for --sample), PIPELINE_DEFAULTS.checkDatabases at a time through
 * one pipeline (each-database.ts). A database that cannot be checked becomes a record with its
 * error and the others are still checked.
 */
export async function checkAll(o: CheckAllOptions): Promise<CheckAllResult> {
  const elapsed = stopwatch();
  const hashing = applyDefaults('hash', o);
  const password = o.password ? { password: once(o.password) } : {};
  const dbs = listRepositories(o.backupDir, password);
  if (!dbs.length) throw notFound(`no database backups in ${o.backupDir}`);
  const outcomes = await eachDatabase({
    dbs,
    limit: PIPELINE_DEFAULTS.checkDatabases,
    pipeline: hashing,
    observer: o.observer,
    name: 'check',
    run: (dbPath, observer, pipeline) => checkBackup({ ...o, ...password, dbPath, observer }, pipeline),
  });
  const databases = rowsOf(outcomes);
  const ok = succeeded(databases);
  const sum = (of: (r: CheckResult) => number) => ok.reduce((a, r) => a + of(r), 0);
  const seconds = elapsed();
  const bytesChecked = sum((r) => r.bytesChecked);
  return {
    databases,
    bad: ok.flatMap((r) => r.bad),
    entriesChecked: sum((r) => r.entriesChecked),
    entriesInScope: sum((r) => r.entriesInScope),
    filesChecked: sum((r) => r.filesChecked),
    bytesChecked,
    seconds,
    mbPerSec: mbPerSec(bytesChecked, seconds),
  };
}
