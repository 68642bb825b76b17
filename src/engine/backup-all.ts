import { notFound } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { PIPELINE_DEFAULTS, applyDefaults } from '../io/index.js';
import { Cluster, listDatabases } from '../store/index.js';
import { once } from '../repo/settings.js';
import { backup, type BackupOptions, type BackupResult } from './backup.js';
import { eachDatabase, totalOf, type DatabaseRow } from './each-database.js';

/** backup-db's options for every database of the home at once. */
export type BackupAllOptions = Omit<BackupOptions, 'dbPath' | 'tables' | 'partitions' | 'keepDropped'>;

export type BackupAllRow = DatabaseRow<BackupResult>;

/** One record per database, and the totals of the ones that succeeded (mbPerSec: over the whole command's seconds). */
export type BackupAllResult = { databases: BackupAllRow[] } & Pick<BackupResult, 'partitions' | 'skipped' | 'dropped' | 'bytesCopied' | 'bytesStored' | 'filesDeduplicated' | 'bytesDeduplicated' | 'seconds' | 'mbPerSec'>;

/**
 * backup-db of every database in the home, in one process (chunkvault's extension: DolphinDB has
 * no such call). Each database's backup is backup-db's own code (its locks, journal and point), so
 * a kill keeps every database's last point and a rerun resumes each; they run
 * PIPELINE_DEFAULTS.backupDatabases at a time through one pipeline (each-database.ts). A database
 * that fails becomes a record with its error and the others carry on.
 */
export async function backupAll(o: BackupAllOptions): Promise<BackupAllResult> {
  const elapsed = stopwatch();
  const copying = applyDefaults('copy', o);
  const c = new Cluster(o.home);
  const dbs = listDatabases(c);
  if (!dbs.length) throw notFound(`no databases in ${c.home}`);
  // One password read for every database (one config for the directory).
  const password = o.password ? { password: once(o.password) } : {};
  const databases = await eachDatabase({
    dbs,
    limit: PIPELINE_DEFAULTS.backupDatabases,
    pipeline: copying,
    observer: o.observer,
    name: 'backup-all',
    run: (dbPath, observer, pipeline) => backup({ ...o, ...password, dbPath, observer }, pipeline),
  });
  const sum = (of: (r: BackupResult) => number) => totalOf(databases, of);
  const seconds = elapsed();
  const bytesCopied = sum((r) => r.bytesCopied);
  return { databases, partitions: sum((r) => r.partitions), skipped: sum((r) => r.skipped), dropped: sum((r) => r.dropped), bytesCopied, bytesStored: sum((r) => r.bytesStored), filesDeduplicated: sum((r) => r.filesDeduplicated), bytesDeduplicated: sum((r) => r.bytesDeduplicated), seconds, mbPerSec: mbPerSec(bytesCopied, seconds) };
}
