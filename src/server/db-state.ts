import { listPoints, Repository, scanRecords, effective, type JobRecord } from '../engine/index.js';
import type { DatabaseConfig, ServerConfig } from './config.js';

/** What the metrics and the dashboard know of one configured database. */
export interface DatabaseState {
  name: string;
  dbPath: string;
  backupDir: string;
  maxAgeHours: number;
  points: { pointId: string; created: string; bytes: number; bytesCopied: number }[];
  storedBytes: number;
  lastBackup: { time: string; seconds: number; bytes: number; mbPerSec: number } | null;
  lastCleanCheck: string | null;
  checkFailures: number;
  runningRate: number;
  error: string | null;
}

const about = (r: JobRecord, dbPath: string) => r.args.includes(dbPath) || r.tables.some((t) => t.dbName === dbPath);
const newest = (a: JobRecord, b: JobRecord) => ((b.endTime ?? '') < (a.endTime ?? '') ? -1 : 1);

/** Bytes the repository holds: each (chunkId, table, cid) once, however many points share it. */
function storedBytes(backupDir: string, dbPath: string): number {
  const repo = Repository.open(backupDir, dbPath, false);
  const seen = new Map<string, number>();
  // Summary scans, a point at a time: read whole, a point of 100,000 partitions is ~1 GB of objects.
  for (const id of repo.points()) repo.pickPoint(id, (p) => void Object.entries(p.tables).forEach(([t, e]) => seen.set(`${p.chunkId}/${t}/${e.cid}`, e.bytes)));
  let sum = 0;
  for (const b of seen.values()) sum += b;
  return sum;
}

function stateOf(d: DatabaseConfig, cfg: ServerConfig, records: JobRecord[]): DatabaseState {
  const backupDir = cfg.repositories[d.repository]!;
  const mine = records.filter((r) => about(r, d.dbPath));
  const backups = mine.filter((r) => r.type === 'BACKUP_BY_COPY_FILE' && r.state === 'done').sort(newest);
  const checks = mine.filter((r) => r.type === 'CHECK' && r.args.includes('check'));
  const clean = checks.filter((r) => r.state === 'done').sort(newest)[0];
  const res = backups[0]?.result as { seconds?: number; bytesCopied?: number; mbPerSec?: number } | undefined;
  const running = mine.find((r) => r.state === 'running');
  const base = { name: d.name, dbPath: d.dbPath, backupDir, maxAgeHours: d.maxAgeHours, lastCleanCheck: clean?.endTime ?? null, checkFailures: checks.filter((r) => r.state === 'failed' && r.exitCode === 8).length, runningRate: running?.maxRate ?? 0 };
  try {
    const points = listPoints(backupDir, d.dbPath).map((p) => ({ pointId: p.pointId, created: p.created, bytes: p.bytes, bytesCopied: p.bytesCopied }));
    const latest = points[points.length - 1];
    const lastBackup = latest ? { time: latest.created, seconds: res?.seconds ?? 0, bytes: res?.bytesCopied ?? latest.bytesCopied, mbPerSec: res?.mbPerSec ?? 0 } : null;
    return { ...base, points, storedBytes: points.length ? storedBytes(backupDir, d.dbPath) : 0, lastBackup, error: null };
  } catch (err) {
    return { ...base, points: [], storedBytes: 0, lastBackup: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Every configured database's state, from its repository and the job records. */
export function databaseStates(cfg: ServerConfig, home: string): { databases: DatabaseState[]; jobs: JobRecord[] } {
  const jobs = scanRecords(home).records.map(effective);
  return { databases: cfg.databases.map((d) => stateOf(d, cfg, jobs)), jobs };
}
