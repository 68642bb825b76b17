import fs from 'node:fs';
import { notFound } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/durable.js';
import { jobsDir, readOwned, recordFile } from './files.js';
import { checkJobId, isJobId } from './ids.js';
import { jobProcessAlive } from './proc.js';

/** The long operations that run as jobs; the first two are getBackupStatus's types. */
export type JobType = 'BACKUP_BY_COPY_FILE' | 'RESTORE_BY_COPY_FILE' | 'MIGRATE' | 'CHECK';
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobTableProgress {
  dbName: string;
  tableName: string;
  totalPartitions: number;
  completedPartitions: number;
  /** When the last partition of this table finished. */
  doneTime?: string;
}

/** `<home>/jobs/<jobId>.json`, mode 0600, written only by the process running the job. */
export interface JobRecord {
  format: 1;
  jobId: string;
  jobDesc: string;
  type: JobType;
  /** Host name of the machine whose process runs the job (liveness is checked there). */
  node: string;
  /** The OS user name, or `uid:<n>` when the uid has no passwd entry (older records call it userID). */
  userName: string;
  uid: number;
  /**
   * Set for a job submitted through the server: the token's user, who is then also `userName`;
   * `uid` is the server's (the job runs as the server's OS user).
   */
  apiUser?: string;
  receivedTime: string;
  startTime?: string;
  endTime?: string;
  state: JobState;
  errorMsg?: string;
  exitCode?: number;
  pid?: number;
  /** /proc start time of pid: guards against a recycled pid. */
  pidStart?: string;
  background: boolean;
  /** The CLI arguments the job runs with. */
  args: string[];
  /** Current shared rate limit in bytes/s (0 = unlimited), as last applied. */
  maxRate?: number;
  bytesDone: number;
  bytesTotal: number;
  tables: JobTableProgress[];
  /** What the operation returned, when small enough to keep (getJobReturn). */
  result?: unknown;
}

/**
 * Progress of a running job is written without fsync: after a machine crash an older progress
 * record is harmless (the dead pid marks the job failed), while an fsync per update stalls the
 * event loop behind the copy's own writeback (1.6 s of a 4.6 s backup in a profile). Every other
 * state is written durably.
 */
export function writeRecord(home: string, r: JobRecord): void {
  writeFileAtomic(recordFile(home, r.jobId), JSON.stringify(r, null, 1) + '\n', { mode: 0o600, durable: r.state !== 'running' });
}

/**
 * Reads a record. A record whose file is owned by a uid other than the one it names is forged (the
 * directory is shared) and ignored; an unreadable one (another user's, 0600) reads as absent.
 */
export function readRecord(home: string, jobId: string): JobRecord | undefined {
  const f = readOwned(recordFile(home, jobId));
  if (!f) return undefined;
  let r: JobRecord;
  try {
    r = JSON.parse(f.text) as JobRecord;
  } catch {
    return undefined; // torn writes cannot happen (atomic rename); garbage is not a job
  }
  if (r?.format !== 1 || r.jobId !== jobId || r.uid !== f.uid) return undefined;
  // Records written before the key was renamed still name their user.
  const legacy = r as JobRecord & { userID?: string };
  if (legacy.userName === undefined && typeof legacy.userID === 'string') {
    const { userID, ...rest } = legacy;
    return { ...rest, userName: userID };
  }
  return r;
}

export function requireRecord(home: string, jobId: string): JobRecord {
  const r = readRecord(home, checkJobId(jobId));
  if (!r) throw notFound(`no job ${jobId} visible to you in ${home}`);
  return r;
}

export interface RecordScan {
  records: JobRecord[];
  /** Records this user may not read (other users' 0600 files). */
  unreadable: number;
}

/** Every job record this process can read, oldest first. */
export function scanRecords(home: string): RecordScan {
  let names: string[];
  try {
    names = fs.readdirSync(jobsDir(home));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], unreadable: 0 };
    throw err;
  }
  const records: JobRecord[] = [];
  let unreadable = 0;
  for (const n of names.sort()) {
    if (!n.endsWith('.json') || !isJobId(n.slice(0, -5))) continue;
    const r = readRecord(home, n.slice(0, -5));
    if (r) records.push(r);
    else unreadable++;
  }
  return { records, unreadable };
}

/**
 * The state to show: a queued or running job whose process is gone is failed ("process died"),
 * whatever its record says; the record itself is left to its owner.
 */
export function effective(r: JobRecord): JobRecord {
  if (r.state !== 'queued' && r.state !== 'running') return r;
  if (jobProcessAlive(r.node, r.pid, r.pidStart) !== false) return r;
  return { ...r, state: 'failed', errorMsg: `process died (pid ${r.pid}) while the job was ${r.state}` };
}

export const isActive = (r: JobRecord) => r.state === 'queued' || r.state === 'running';
