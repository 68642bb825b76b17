import path from 'node:path';
import { mbPerSec, stopwatch } from '../common/units.js';
import { applyDefaults, diskOf, type CopyPipeline, type HashProblem } from '../io/index.js';
import { Cluster, loadDatabase, pinDatabase } from '../store/index.js';
import { runLimited, withPipeline, type OperationOptions } from './options.js';
import { Repository } from '../repo/repository.js';
import { notFound } from '../common/errors.js';

export interface VerifyOptions extends OperationOptions {
  /** The cluster holding the restored database. */
  home: string;
  backupDir: string;
  /** The database as it was backed up. */
  dbPath: string;
  /** The restored database (default: dbPath). */
  targetDbPath?: string;
  tables?: string[];
  asOf?: string;
}

export type VerifyProblemKind = 'missing' | 'extra' | 'rows' | 'files' | HashProblem;

export interface VerifyProblem {
  tableName: string;
  partitionPath: string;
  problem: VerifyProblemKind;
  detail: string;
}

export interface VerifyResult {
  pointId: string;
  dbPath: string;
  targetDbPath: string;
  entriesChecked: number;
  bytesChecked: number;
  seconds: number;
  mbPerSec: number;
  problems: VerifyProblem[];
}

/**
 * Verifies a restored database against a restore point's manifest: every (partition, table) of the
 * point must be live in the target with the same rows and files, and every file must hash to the
 * manifest's xxh3 (restore copies bytes unchanged, so this holds exactly). Target partitions the
 * point lacks are reported as `extra`. Reads a pinned snapshot, so writers may go on meanwhile.
 */
export async function verifyRestore(o: VerifyOptions): Promise<VerifyResult> {
  const elapsed = stopwatch();
  const hashing = applyDefaults('hash', o);
  const m = Repository.open(o.backupDir, o.dbPath, false, undefined, o.password ? { password: o.password } : {}).point(o.asOf);
  const target = o.targetDbPath ?? o.dbPath;
  const c = new Cluster(o.home);
  loadDatabase(c, target);
  const tables = o.tables?.length ? o.tables : Object.keys(m.tables);
  for (const t of tables) if (!m.tables[t]) throw notFound(`table ${t} is not in restore point ${m.pointId} of ${o.dbPath}`);
  const snap = pinDatabase(c, target);
  const problems: VerifyProblem[] = [];
  let entries = 0;
  let bytes = 0;
  try {
    const live = new Map(snap.chunks.map((k) => [k.path, k]));
    const wanted = new Set<string>();
    const jobs: ((pipeline: CopyPipeline) => Promise<void>)[] = [];
    for (const p of m.partitions)
      for (const [t, e] of Object.entries(p.tables)) {
        if (!tables.includes(t)) continue;
        wanted.add(`${p.path}\0${t}`);
        const k = live.get(p.path);
        const v = k?.tables[t];
        const at = { tableName: t, partitionPath: p.path };
        if (!k || !v) {
          problems.push({ ...at, problem: 'missing', detail: 'not in the target' });
          continue;
        }
        if (v.rows !== e.rows) {
          problems.push({ ...at, problem: 'rows', detail: `target has ${v.rows} rows, the restore point ${e.rows}` });
          continue;
        }
        const names = (xs: { name: string }[]) => xs.map((f) => f.name).sort().join(',');
        if (names(v.files) !== names(e.files)) {
          problems.push({ ...at, problem: 'files', detail: `target files ${names(v.files)}, restore point files ${names(e.files)}` });
          continue;
        }
        const dir = path.join(c.chunkDir(k, target), v.version);
        const disk = c.volumes.find((x) => x.path === k.volume)?.disk ?? diskOf(k.volume);
        jobs.push(async (pipeline) => {
          const res = await pipeline.hashFiles(e.files.map((f) => ({ src: path.join(dir, f.name), expectedSize: f.size, expectedXxh3: f.xxh3 })), disk);
          entries++;
          bytes += e.bytes;
          for (const [i, r] of res.entries()) if (r.problem) problems.push({ ...at, problem: r.problem, detail: `${e.files[i]!.name}: ${r.detail ?? r.problem}` });
          o.observer?.partitionDone?.(t);
        });
      }
    for (const k of snap.chunks)
      for (const t of Object.keys(k.tables))
        if (tables.includes(t) && !wanted.has(`${k.path}\0${t}`)) problems.push({ tableName: t, partitionPath: k.path, problem: 'extra', detail: 'in the target, not in the restore point' });
    o.observer?.plan?.(tables.map((t) => ({ dbName: target, tableName: t, total: m.partitions.filter((p) => p.tables[t]).length })));
    const total = m.partitions.reduce((a, p) => a + tables.reduce((b, t) => b + (p.tables[t]?.bytes ?? 0), 0), 0);
    await withPipeline(hashing, o.observer, total, (pipeline) => runLimited(jobs, hashing.inFlight, (job) => job(pipeline)));
  } finally {
    snap.release();
  }
  problems.sort((a, b) => (a.partitionPath + a.tableName < b.partitionPath + b.tableName ? -1 : 1));
  const seconds = elapsed();
  return { pointId: m.pointId, dbPath: o.dbPath, targetDbPath: target, entriesChecked: entries, bytesChecked: bytes, seconds, mbPerSec: mbPerSec(bytes, seconds), problems };
}
