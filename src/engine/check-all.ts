import { notFound } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { PIPELINE_DEFAULTS, applyDefaults } from '../io/index.js';
import { listRepositories } from '../repo/repository.js';
import { once } from '../repo/settings.js';
import { checkBackup, type CheckOptions, type CheckResult } from './check.js';
import { eachDatabase, totalOf, type DatabaseRow } from './each-database.js';

/** check's options for every database of a backup directory (no --table: tables are per database). */
export type CheckAllOptions = Omit<CheckOptions, 'dbPath' | 'tables'>;

export type CheckAllRow = DatabaseRow<CheckResult>;

/** One record per database, every database's bad chunks (each names its dbName), and the totals of the ones checked. */
export type CheckAllResult = { databases: CheckAllRow[] } & Pick<CheckResult, 'bad' | 'entriesChecked' | 'entriesInScope' | 'filesChecked' | 'bytesChecked' | 'seconds' | 'mbPerSec'>;

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
  const databases = await eachDatabase({
    dbs,
    limit: PIPELINE_DEFAULTS.checkDatabases,
    pipeline: hashing,
    observer: o.observer,
    name: 'check',
    run: (dbPath, observer, pipeline) => checkBackup({ ...o, ...password, dbPath, observer }, pipeline),
  });
  const sum = (of: (r: CheckResult) => number) => totalOf(databases, of);
  const seconds = elapsed();
  const bytesChecked = sum((r) => r.bytesChecked);
  const bad = databases.flatMap((r) => (r.success ? r.bad : []));
  return { databases, bad, entriesChecked: sum((r) => r.entriesChecked), entriesInScope: sum((r) => r.entriesInScope), filesChecked: sum((r) => r.filesChecked), bytesChecked, seconds, mbPerSec: mbPerSec(bytesChecked, seconds) };
}
