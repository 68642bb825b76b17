import { CvError, notFound, usage } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { PIPELINE_DEFAULTS, restoreDefaults, type CopyPipeline } from '../io/index.js';
import { dbNameOf, hasDatabase, loadDatabase, type Cluster } from '../store/index.js';
import { PACK_TASK } from '../repo/packed.js';
import { newPipeline, withPipeline, type OperationOptions } from './options.js';
import { settleEach, untilPlanned } from './each-database.js';
import { parsePattern } from './pattern.js';
import { once } from '../repo/settings.js';
import { listRepositories, Repository } from '../repo/repository.js';
import type { ManifestHead } from '../repo/manifest.js';
import { runRestore, type RestoreTarget } from './restore.js';
import { openTargetCluster, scanSource, type SourcePoint, type TablePair } from './restore-plan.js';

export interface MigrateOptions extends OperationOptions, RestoreTarget {
  backupDir: string;
  /** Only this database (default: every database in backupDir). */
  dbPath?: string;
  /** Only this table of dbPath. */
  table?: string;
  newDbPath?: string;
  newTable?: string;
}

/** DolphinDB migrate's rows: one per table. */
export interface MigrateRow {
  dbName: string;
  tableName: string;
  success: boolean;
  errorMsg: string;
}

export interface MigrateResult {
  rows: MigrateRow[];
  partitions: number;
  bytes: number;
  seconds: number;
  mbPerSec: number;
}

/** A database to migrate: its repository, and the head of the restore point (verified whole) whose partitions are read when it starts. */
interface Task {
  repo: Repository;
  head: ManifestHead;
  targetDb: string;
  pairs: TablePair[];
}

/**
 * Each pair's entries and all their bytes, in one pass: the restore point's partitions are kept
 * as lines and parsed on each access (3 passes were 12,000 parses, ~0.1 s, before the workers
 * started on the many shape).
 */
function countEntries(src: SourcePoint, pairs: TablePair[]): { entries: number[]; bytes: number } {
  const entries = pairs.map(() => 0);
  let bytes = 0;
  for (const x of src.manifest.partitions)
    pairs.forEach((p, k) => {
      const e = x.tables[p.src];
      if (!e) return;
      entries[k]!++;
      bytes += e.bytes;
    });
  return { entries, bytes };
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/**
 * DolphinDB migrate: restores every database of a backup directory (or one database, or one
 * table) into a cluster where the target does not exist yet. A refused or failed database becomes
 * rows with success=false and the others carry on. Databases copy two at a time (PIPELINE_DEFAULTS.migrateDatabases). Not incremental: a killed migrate leaves a
 * target that a rerun refuses; resume it with restore-db.
 */
export async function migrate(o: MigrateOptions): Promise<MigrateResult> {
  const elapsed = stopwatch();
  const copying = restoreDefaults(o);
  if (o.table && !o.dbPath) throw usage('migrate: a table needs its database');
  if ((o.newDbPath || o.newTable) && !o.dbPath) throw usage('migrate: newDbPath and newTable need a database (and newTable a table)');
  if (o.newTable && !o.table) throw usage('migrate: newTable needs a table');
  if (o.newDbPath) dbNameOf(o.newDbPath);
  // One password read for every database of the directory.
  const password = once(o.password);
  const dbs = o.dbPath ? [o.dbPath] : listRepositories(o.backupDir, { password });
  if (!dbs.length) throw notFound(`no database backups in ${o.backupDir}`);
  const c = openTargetCluster(o.home, true);
  const rows: MigrateRow[] = [];
  const fail = (db: string, tables: string[], err: unknown) => rows.push(...tables.map((t) => ({ dbName: db, tableName: t, success: false, errorMsg: messageOf(err) })));
  // The pool, booted once the first repository is open (so it is known whether its workers read
  // packs): its workers start while the first database is planned and placed, not after.
  // Many shape, v2, cold, 6 pairs alternating: faster in 6 (docs/PERFORMANCE.md, session 19).
  let early: CopyPipeline | undefined;
  try {
    const tasks = openTasks(o, dbs, c, password, fail, (repo) => (early ??= newPipeline(copying, true, repo.packs ? [PACK_TASK] : [])));
    const totals = new Map<Task, number>();
    let partitions = 0;
    let bytes = 0;
    // A database's partitions are read when it starts, and its plan and bytes reported then: the
    // first database's copies do not wait for the others' points (docs/PERFORMANCE.md, session 22).
    const restoreOne = (t: Task, pipeline: CopyPipeline) => {
      const src = scanSource(t.repo, t.head.pointId);
      const counted = countEntries(src, t.pairs);
      o.observer?.plan?.(t.pairs.map((p, k) => ({ dbName: t.targetDb, tableName: p.dst, total: counted.entries[k]! })));
      totals.set(t, counted.bytes);
      return runRestore({ c, src, targetDb: t.targetDb, pairs: t.pairs, pattern: parsePattern('%'), create: { db: true, tables: true } }, o, copying, pipeline);
    };
    // The databases restore at once, through one pipeline: one database's last large files then
    // overlap the other's copies instead of leaving workers idle, and the process starts once. The
    // one with the fewest entries starts first: its plan is the shortest wait for the workers.
    const order = [...tasks].sort((a, b) => (a.head.totals?.entries ?? 0) - (b.head.totals?.entries ?? 0));
    const restoreAll = async (pipeline: CopyPipeline) => {
      const results = await settleEach(order, PIPELINE_DEFAULTS.migrateDatabases, pipeline, 'migrate', (t) => restoreOne(t, pipeline));
      results.forEach((r, i) => {
        const t = order[i]!;
        if ('err' in r) return fail(t.targetDb, t.pairs.map((p) => p.dst), r.err);
        partitions += r.result.partitions;
        bytes += r.result.bytes;
        rows.push(...t.pairs.map((p) => ({ dbName: t.targetDb, tableName: p.dst, success: true, errorMsg: '' })));
      });
    };
    await withPipeline(copying, untilPlanned(o.observer), () => [...totals.values()].reduce((a, b) => a + b, 0), restoreAll, early);
    const seconds = elapsed();
    rows.sort((a, b) => (a.dbName === b.dbName ? (a.tableName < b.tableName ? -1 : 1) : a.dbName < b.dbName ? -1 : 1));
    return { rows, partitions, bytes, seconds, mbPerSec: mbPerSec(bytes, seconds) };
  } finally {
    await early?.close();
  }
}

/**
 * Each database's repository, restore point head and table pairs; a database that cannot be
 * migrated becomes failed rows. The point is verified whole here (so a damaged one fails before any
 * copy), but its partitions are not kept. `opened` sees each repository opened.
 */
function openTasks(o: MigrateOptions, dbs: string[], c: Cluster, password: MigrateOptions['password'], fail: (db: string, tables: string[], err: unknown) => void, opened: (repo: Repository) => void): Task[] {
  const tasks: Task[] = [];
  for (const db of dbs) {
    const targetDb = o.newDbPath ?? db;
    let repo: Repository;
    let head: ManifestHead;
    try {
      repo = Repository.open(o.backupDir, db, false, undefined, password ? { password } : {});
      head = repo.scanPoint(o.asOf);
    } catch (err) {
      // A missing or wrong password is the whole directory's, not one database's: one line, exit 11.
      if (err instanceof CvError && err.code === 'KEY') throw err;
      fail(targetDb, [o.newTable ?? o.table ?? ''], err);
      continue;
    }
    opened(repo);
    const tables = o.table ? [o.table] : Object.keys(head.tables).sort();
    const pairs = tables.map((t) => ({ src: t, dst: o.table ? (o.newTable ?? t) : t }));
    if (o.table && !head.tables[o.table]) {
      fail(targetDb, [pairs[0]!.dst], notFound(`table ${o.table} is not in the backup of ${db}`));
      continue;
    }
    if (hasDatabase(c, targetDb)) {
      const existing = loadDatabase(c, targetDb).tables;
      if (!o.table) {
        fail(targetDb, pairs.map((p) => p.dst), new CvError('CONFLICT', `database ${targetDb} already exists in ${c.home}; migrate only creates new databases (restore-db restores into an existing one)`));
        continue;
      }
      if (existing[pairs[0]!.dst]) {
        fail(targetDb, [pairs[0]!.dst], new CvError('CONFLICT', `table ${pairs[0]!.dst} already exists in ${targetDb}; migrate only creates new tables (restore-table restores into an existing one)`));
        continue;
      }
    }
    tasks.push({ repo, head, targetDb, pairs });
  }
  return tasks;
}
