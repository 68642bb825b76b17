import { CvError, notFound, usage } from '../common/errors.js';
import type { RepoLock } from '../repo/backend/index.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { collectGarbage } from '../common/collect-garbage.js';
import { applyDefaults, diskOf, type CopyPipeline } from '../io/index.js';
import { dbNameOf } from '../store/index.js';
import { checkEntry, type BadChunk, type EntryCheckContext, type Item } from './check-entry.js';
import { lowerBound, type CheckCoverage } from '../repo/check-state.js';
import { defaultHolder, withPipeline, type OperationOptions } from './options.js';
import { parsePattern, type PartitionPattern } from './pattern.js';
import type { ExtraEntry } from '../repo/extras.js';
import { entryKey, type ManifestHead } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';

export interface CheckOptions extends OperationOptions {
  backupDir: string;
  dbPath: string;
  tables?: string[];
  /** restore's pattern over paths that include the database name, e.g. %/Key4/tp/% */
  partition?: string;
  asOf?: string;
  /** Check this share of the scope this run, continuing where the last time-boxed run stopped. */
  samplePercent?: number;
  /** Start no new entry after this many seconds, continuing next time where this run stopped. */
  maxDurationSec?: number;
}

export interface CheckResult {
  pointId: string;
  dbPath: string;
  bad: BadChunk[];
  entriesChecked: number;
  entriesInScope: number;
  filesChecked: number;
  bytesChecked: number;
  seconds: number;
  mbPerSec: number;
  /** Set for --sample / --max-duration runs: where the resumable pass stands. */
  coverage: CheckCoverage | null;
  /** Entries of the whole repository that no layout rule or restore point explains (see RepoExtras). */
  unexpected: ExtraEntry[];
  unreferenced: ExtraEntry[];
}

export type { BadChunk, CheckProblem } from './check-entry.js';
export { checkStateFile, type CheckCoverage } from '../repo/check-state.js';

/**
 * checkBackup: re-reads and re-hashes every file of the restore point's entries in scope, in the
 * worker pool through the repository disk's queue, and returns only the bad ones. With
 * samplePercent / maxDurationSec it checks part of the scope, in key order from a cursor kept in
 * `<repo>/check-state.json`, so repeated runs cover the whole repository. `shared`: the pipeline
 * of a check of every database (check-all.ts), which attaches it and reports its progress.
 */
export async function checkBackup(o: CheckOptions, shared?: CopyPipeline): Promise<CheckResult> {
  const elapsed = stopwatch();
  if (o.samplePercent !== undefined && !(o.samplePercent > 0 && o.samplePercent <= 100)) throw usage(`--sample must be a percentage in (0, 100], got ${o.samplePercent}`);
  if (o.maxDurationSec !== undefined && !(o.maxDurationSec > 0)) throw usage(`--max-duration must be a positive number of seconds, got ${o.maxDurationSec}`);
  const hashing = applyDefaults('hash', o);
  const pattern = o.partition ? parsePattern(o.partition) : undefined;
  const repo = Repository.open(o.backupDir, o.dbPath, false, undefined, o.password ? { password: o.password } : {});
  const m = repo.scanPoint(o.asOf);
  const tables = o.tables?.length ? [...new Set(o.tables)] : undefined;
  for (const t of tables ?? []) if (!Object.hasOwn(m.tables, t)) throw notFound(`table ${t} is not in restore point ${m.pointId} of ${o.dbPath}`);
  const timeBoxed = o.samplePercent !== undefined || o.maxDurationSec !== undefined;
  const scopeKey = JSON.stringify({ tables: tables ? [...tables].sort() : '*', partition: pattern?.text ?? '%' });
  const lock = takeLock(repo, o.holder ?? defaultHolder(), timeBoxed);
  try {
    const scopeKeys = scopeOf(repo, m, pattern, tables);
    const state = timeBoxed ? repo.checkState() : undefined;
    const lastKey = state?.scopes[scopeKey]?.lastKey;
    const start = lastKey ? lowerBound(scopeKeys, lastKey) : 0;
    let count = scopeKeys.length - start;
    if (o.samplePercent !== undefined) count = Math.min(count, Math.max(1, Math.ceil((scopeKeys.length * o.samplePercent) / 100)));
    const sel = withEntries(repo, m.pointId, scopeKeys.slice(start, start + count));
    // Under the lock, so no backup or prune is half-way through what the scan sees. After the
    // scans of the point, and each followed by a full collection: the garbage of one scan is not
    // lying under the next one's, nor beside the hashing workers (peak RSS at scale: issue 14).
    collectGarbage();
    const extras = repo.extras();
    collectGarbage();

    const perTable = new Map<string, number>();
    for (const it of sel) perTable.set(it.table, (perTable.get(it.table) ?? 0) + 1);
    o.observer?.plan?.([...perTable].map(([t, n]) => ({ dbName: o.dbPath, tableName: t, total: n })));
    const deadline = o.maxDurationSec !== undefined ? Date.now() + o.maxDurationSec * 1000 : Infinity;
    const totalBytes = sel.reduce((a, it) => a + it.e.bytes, 0);
    const run = await withPipeline(hashing, o.observer, totalBytes, (pipeline) =>
      checkItems({ repo, m, pipeline, disk: repo.ioQueue ?? diskOf(repo.dir) }, sel, hashing.inFlight, deadline, (it) => o.observer?.partitionDone?.(it.table)),
      shared,
    );

    const found = run.bad.filter((b): b is BadChunk => b !== undefined);
    const badInRun = run.bad.slice(0, run.prefix).filter(Boolean).length;
    const coverage = state ? repo.advanceCheckCursor(state, { scopeKey, start, prefix: run.prefix, scopeKeys, badInRun }) : null;
    if (run.failure !== undefined) throw run.failure;
    const seconds = elapsed();
    const bytes = run.bytes;
    return { pointId: m.pointId, dbPath: o.dbPath, bad: found, entriesChecked: run.prefix, entriesInScope: scopeKeys.length, filesChecked: run.files, bytesChecked: bytes, seconds, mbPerSec: mbPerSec(bytes, seconds), coverage, ...extras };
  } finally {
    lock?.release();
  }
}

/**
 * The entries of a point that a check covers, in key order (the order cursors advance in), read a
 * partition at a time and kept as their keys only: at 100,000 partitions holding every entry took
 * ~1 GB with --sample 1 (issue 14). withEntries reads the entries of the ones a run checks.
 */
function scopeOf(repo: Repository, m: ManifestHead, pattern: PartitionPattern | undefined, tables: string[] | undefined): string[] {
  const dbName = dbNameOf(m.dbPath);
  const keys: string[] = [];
  repo.scanPoint(m.pointId, (p) => {
    if (pattern && !pattern.matches(dbName, p.path)) return;
    for (const [t, e] of Object.entries(p.tables)) if (!tables || tables.includes(t)) keys.push(entryKey(p.chunkId, t, e.cid));
  });
  return keys.sort();
}

/** The selected keys of the scope as entries to check, read from the point again. */
function withEntries(repo: Repository, pointId: string, sel: string[]): Item[] {
  const want = new Map<string, Item | undefined>(sel.map((key) => [key, undefined]));
  repo.scanPoint(pointId, (p) => {
    for (const [t, e] of Object.entries(p.tables)) {
      const key = entryKey(p.chunkId, t, e.cid);
      if (want.has(key)) want.set(key, { key, table: t, partitionPath: p.path, chunkId: p.chunkId, e });
    }
  });
  return sel.map((key) => want.get(key)!);
}

interface ItemsRun {
  bad: (BadChunk | undefined)[];
  /** How many entries from the start of the selection were all checked (a cursor may pass them). */
  prefix: number;
  files: number;
  bytes: number;
  failure: unknown;
}

/** Checks entries in `lanes` parallel lanes; starts no new entry after the deadline. */
async function checkItems(x: EntryCheckContext, sel: Item[], lanes: number, deadline: number, onDone: (it: Item) => void): Promise<ItemsRun> {
  const bad: (BadChunk | undefined)[] = new Array(sel.length);
  const done: boolean[] = new Array(sel.length).fill(false);
  let files = 0;
  let bytes = 0;
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < sel.length && (next === 0 || Date.now() < deadline)) {
      const i = next++;
      try {
        const r = await checkEntry(x, sel[i]!);
        bad[i] = r.bad;
        files += r.files;
        bytes += r.bytes;
        done[i] = true;
        onDone(sel[i]!);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, sel.length)) }, lane));
  let prefix = 0;
  while (prefix < sel.length && done[prefix]) prefix++;
  return { bad, prefix, files, bytes, failure };
}

/**
 * A check holds the repository lock so that a backup, repair or prune cannot move data under it
 * (which would read as "missing"). On read-only media it runs unlocked, but cannot keep a cursor.
 */
function takeLock(repo: Repository, holder: string, needWrite: boolean): RepoLock | undefined {
  try {
    return repo.lock(holder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      if (needWrite) throw new CvError('IO', `cannot write to ${repo.dir} (${code}): --sample and --max-duration keep their cursor there`);
      return undefined;
    }
    throw err;
  }
}
