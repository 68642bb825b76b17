import fs from 'node:fs';
import path from 'node:path';
import { CvError, notFound, usage } from '../common/errors.js';
import { readJson, writeJsonAtomic } from '../common/durable.js';
import type { LockFile } from '../common/lockfile.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { applyDefaults, diskOf, type CopyPipeline, type HashProblem, type HashResult } from '../io/index.js';
import { dbNameOf, versionProblem } from '../store/index.js';
import { chunkPathOf } from './inspect.js';
import { defaultHolder, withPipeline, type OperationOptions } from './options.js';
import { parsePattern } from './pattern.js';
import { entryKey, type ManifestEntry } from './repo/manifest.js';
import { Repository } from './repo/repository.js';

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

/** HashProblem, or 'manifest': the files are intact but are not what the manifest describes (rows, types, file set). */
export type CheckProblem = HashProblem | 'manifest';

/** One bad (chunkId, table, cid): DolphinDB's checkBackup columns, then what is wrong. */
export interface BadChunk {
  dbName: string;
  tableName: string;
  chunkPath: string;
  chunkID: string;
  /** The partition relative to the database: what `backup --force --partition` takes to repair it. */
  partitionPath: string;
  cid: number;
  problem: CheckProblem;
  files: { name: string; problem: CheckProblem; detail: string }[];
}

export interface CheckCoverage {
  /** Entries of the scope checked so far in the current pass (all of them when the pass completed). */
  checked: number;
  total: number;
  percent: number;
  passComplete: boolean;
  passesCompleted: number;
  /** Bad entries found during the current (or just completed) pass. */
  badInPass: number;
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
}

interface Item {
  key: string;
  table: string;
  partitionPath: string;
  chunkId: string;
  e: ManifestEntry;
}

interface ScopeState {
  lastKey: string | null;
  passesCompleted: number;
  passStarted: string;
  lastPassCompleted?: string;
  badInPass: number;
  updated: string;
}
interface CheckState {
  format: 1;
  scopes: Record<string, ScopeState>;
}

export const checkStateFile = (repoDir: string) => path.join(repoDir, 'check-state.json');

function readState(repoDir: string): CheckState {
  const f = checkStateFile(repoDir);
  const st = fs.lstatSync(f, { throwIfNoEntry: false });
  if (!st) return { format: 1, scopes: {} };
  if (!st.isFile()) throw new CvError('CORRUPT', `${f} is not a regular file`);
  try {
    const s = readJson<CheckState>(f);
    if (s?.format === 1 && s.scopes && typeof s.scopes === 'object') return s;
  } catch {
    /* fall through */
  }
  return { format: 1, scopes: {} }; // a damaged cursor only costs a fresh pass
}

/**
 * checkBackup: re-reads and re-hashes every file of the restore point's entries in scope, in the
 * worker pool through the repository disk's queue, and returns only the bad ones. With
 * samplePercent / maxDurationSec it checks part of the scope, in key order from a cursor kept in
 * `<repo>/check-state.json`, so repeated runs cover the whole repository.
 */
export async function checkBackup(o: CheckOptions): Promise<CheckResult> {
  const elapsed = stopwatch();
  if (o.samplePercent !== undefined && !(o.samplePercent > 0 && o.samplePercent <= 100)) throw usage(`--sample must be a percentage in (0, 100], got ${o.samplePercent}`);
  if (o.maxDurationSec !== undefined && !(o.maxDurationSec > 0)) throw usage(`--max-duration must be a positive number of seconds, got ${o.maxDurationSec}`);
  const hashing = applyDefaults('hash', o);
  const pattern = o.partition ? parsePattern(o.partition) : undefined;
  const repo = Repository.open(o.backupDir, o.dbPath, false);
  const m = repo.point(o.asOf);
  const dbName = dbNameOf(o.dbPath);
  const tables = o.tables?.length ? [...new Set(o.tables)] : undefined;
  for (const t of tables ?? []) if (!m.tables[t]) throw notFound(`table ${t} is not in restore point ${m.pointId} of ${o.dbPath}`);

  const scope: Item[] = m.partitions
    .filter((p) => !pattern || pattern.matches(dbName, p.path))
    .flatMap((p) =>
      Object.entries(p.tables)
        .filter(([t]) => !tables || tables.includes(t))
        .map(([t, e]) => ({ key: entryKey(p.chunkId, t, e.cid), table: t, partitionPath: p.path, chunkId: p.chunkId, e })),
    )
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const timeBoxed = o.samplePercent !== undefined || o.maxDurationSec !== undefined;
  const scopeKey = JSON.stringify({ tables: tables ? [...tables].sort() : '*', partition: pattern?.text ?? '%' });
  const lock = takeLock(repo, o.holder ?? defaultHolder(), timeBoxed);
  try {
    const state = timeBoxed ? readState(repo.dir) : undefined;
    const prior = state?.scopes[scopeKey];
    const start = prior?.lastKey ? lowerBound(scope, prior.lastKey) : 0;
    let count = scope.length - start;
    if (o.samplePercent !== undefined) count = Math.min(count, Math.max(1, Math.ceil((scope.length * o.samplePercent) / 100)));
    const sel = scope.slice(start, start + count);

    const perTable = new Map<string, number>();
    for (const it of sel) perTable.set(it.table, (perTable.get(it.table) ?? 0) + 1);
    o.observer?.plan?.([...perTable].map(([t, n]) => ({ dbName: o.dbPath, tableName: t, total: n })));

    const disk = diskOf(repo.dir);
    const deadline = o.maxDurationSec !== undefined ? Date.now() + o.maxDurationSec * 1000 : Infinity;
    const bad: (BadChunk | undefined)[] = new Array(sel.length);
    const done: boolean[] = new Array(sel.length).fill(false);
    let files = 0;
    let next = 0;
    let failure: unknown;
    const checkOne = async (pipeline: CopyPipeline, it: Item): Promise<BadChunk | undefined> => {
      const t = m.tables[it.table]!;
      const base = { dbName: o.dbPath, tableName: it.table, chunkPath: chunkPathOf(o.dbPath, it.partitionPath, t), chunkID: it.chunkId, partitionPath: it.partitionPath, cid: it.e.cid };
      let dir: string;
      try {
        dir = repo.dataDir(it.chunkId, it.table, it.e.cid);
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        return { ...base, problem: 'symlink', files: it.e.files.map((f) => ({ name: f.name, problem: 'symlink', detail })) };
      }
      const results: HashResult[] = await pipeline.hashFiles(
        it.e.files.map((f) => ({ src: path.join(dir, f.name), expectedSize: f.size, expectedXxh3: f.xxh3 })),
        disk,
      );
      files += results.length;
      const probs: BadChunk['files'] = results.flatMap((r, i) => (r.problem ? [{ name: it.e.files[i]!.name, problem: r.problem, detail: r.detail ?? '' }] : []));
      if (!probs.length) {
        const why = versionProblem(m.engine, t.schema, it.e.rows, results.map((r, i) => ({ name: it.e.files[i]!.name, size: r.size, head: r.head ?? new Uint8Array(0) })));
        if (why) probs.push({ name: it.e.files.find((f) => why.startsWith(`${f.name}:`) || why.startsWith(`${f.name} `))?.name ?? '*', problem: 'manifest', detail: why });
      }
      return probs.length ? { ...base, problem: probs[0]!.problem, files: probs } : undefined;
    };
    const lane = async (pipeline: CopyPipeline) => {
      while (failure === undefined && next < sel.length && (next === 0 || Date.now() < deadline)) {
        const i = next++;
        try {
          bad[i] = await checkOne(pipeline, sel[i]!);
          done[i] = true;
          o.observer?.partitionDone?.(sel[i]!.table);
        } catch (err) {
          failure ??= err;
        }
      }
    };
    const totalBytes = sel.reduce((a, it) => a + it.e.bytes, 0);
    const bytes = await withPipeline(hashing, o.observer, totalBytes, async (pipeline) => {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(hashing.inFlight, sel.length)) }, () => lane(pipeline)));
      return pipeline.bytesDone;
    });

    let prefix = 0;
    while (prefix < sel.length && done[prefix]) prefix++;
    const found = bad.filter((b): b is BadChunk => b !== undefined);
    let coverage: CheckCoverage | null = null;
    if (state) {
      const now = new Date().toISOString();
      const reached = start + prefix;
      const passComplete = reached >= scope.length;
      const badInPass = (prior?.badInPass ?? 0) + bad.slice(0, prefix).filter(Boolean).length;
      const passesCompleted = (prior?.passesCompleted ?? 0) + (passComplete ? 1 : 0);
      state.scopes[scopeKey] = passComplete
        ? { lastKey: null, passesCompleted, passStarted: now, lastPassCompleted: now, badInPass: 0, updated: now }
        : { lastKey: prefix ? sel[prefix - 1]!.key : (prior?.lastKey ?? null), passesCompleted, passStarted: prior?.passStarted ?? now, ...(prior?.lastPassCompleted ? { lastPassCompleted: prior.lastPassCompleted } : {}), badInPass, updated: now };
      writeJsonAtomic(checkStateFile(repo.dir), state);
      coverage = { checked: reached, total: scope.length, percent: scope.length ? Math.round((reached / scope.length) * 1000) / 10 : 100, passComplete, passesCompleted, badInPass };
    }
    if (failure !== undefined) throw failure;
    const seconds = elapsed();
    return { pointId: m.pointId, dbPath: o.dbPath, bad: found, entriesChecked: prefix, entriesInScope: scope.length, filesChecked: files, bytesChecked: bytes, seconds, mbPerSec: mbPerSec(bytes, seconds), coverage };
  } finally {
    lock?.release();
  }
}

/** First index whose key is after `key`. */
function lowerBound(items: Item[], key: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.key <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A check holds the repository lock so that a backup, repair or prune cannot move data under it
 * (which would read as "missing"). On read-only media it runs unlocked, but cannot keep a cursor.
 */
function takeLock(repo: Repository, holder: string, needWrite: boolean): LockFile | undefined {
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
