import { CvError, notFound, usage } from '../../common/errors.js';
import { writeControl } from './control.js';
import { ensureJobDirs, msgFile, outFile, readOwned } from './files.js';
import { checkJobId } from './ids.js';
import { effective, isActive, readRecord, scanRecords, type JobRecord, type JobState, type JobType, type RecordScan } from './record.js';
import { currentUser, isAdmin, type OsUser } from './users.js';
import { loadCluster } from '../../store/index.js';

/** Who asks, and what they may see: an admin everyone's jobs (or one user's), anyone else their own. */
export interface Viewer extends OsUser {
  admin: boolean;
  /** A user of the server's API (a token's user): `uid` is the server's; they see the jobs they submitted. */
  api?: boolean;
}

/**
 * The viewer for a server token's user: an admin sees everything, anyone else the jobs submitted
 * through the API under their name (run by the server's uid, whose records the server can read).
 */
export function apiViewer(home: string, name: string, admin: boolean): Viewer {
  const base = viewer(home);
  return { name, uid: base.uid, admin, api: true };
}

export function viewer(home: string, user = currentUser()): Viewer {
  loadCluster(home); // a clear error for a directory that is not a cluster home
  try {
    ensureJobDirs(home); // lets root (or the home's owner) give the shared directories their 1777 mode
  } catch {
    /* reading jobs must not depend on it */
  }
  return { ...user, admin: isAdmin(home, user) };
}

function visibleFilter(v: Viewer, user?: string): (r: JobRecord) => boolean {
  if (user !== undefined && !v.admin && user !== v.name) throw usage(`only an admin can see the jobs of user ${user}; you are ${v.name}`);
  if (v.admin) return (r) => user === undefined || r.userName === user;
  if (v.api) return (r) => r.uid === v.uid && r.apiUser === v.name;
  return (r) => r.uid === v.uid;
}

export interface JobSummary {
  node: string;
  userName: string;
  jobId: string;
  jobDesc: string;
  type: JobType;
  state: JobState;
  receivedTime: string;
  startTime: string | null;
  endTime: string | null;
  errorMsg: string | null;
}

export interface RecentJobs {
  jobs: JobSummary[];
  /** Records in the home that this user cannot read (other users' 0600 files). */
  unreadable: number;
}

const newestFirst = (a: JobRecord, b: JobRecord) => (a.receivedTime < b.receivedTime ? 1 : a.receivedTime > b.receivedTime ? -1 : a.jobId < b.jobId ? 1 : -1);

/** getRecentJobs: the newest n visible jobs (all when n is absent), newest first. */
export function getRecentJobs(home: string, opts: { n?: number; user?: string; viewer?: Viewer; scan?: RecordScan } = {}): RecentJobs {
  const v = opts.viewer ?? viewer(home);
  const keep = visibleFilter(v, opts.user);
  const scan = opts.scan ?? scanRecords(home);
  const rows = scan.records
    .filter(keep)
    .map(effective)
    .sort(newestFirst);
  return {
    jobs: rows.slice(0, opts.n ?? rows.length).map((r) => ({
      node: r.node,
      userName: r.userName,
      jobId: r.jobId,
      jobDesc: r.jobDesc,
      type: r.type,
      state: r.state,
      receivedTime: r.receivedTime,
      startTime: r.startTime ?? null,
      endTime: r.endTime ?? null,
      errorMsg: r.errorMsg ?? null,
    })),
    unreadable: scan.unreadable,
  };
}

/** One job the viewer may see, with its state checked against its process. */
export function getJobStatus(home: string, jobId: string, v = viewer(home)): JobRecord & { logFile: string; outputFile?: string } {
  const r = readRecord(home, checkJobId(jobId));
  if (!r || !visibleFilter(v)(r)) throw notFound(`no job ${jobId} visible to ${v.name} in ${home}`);
  return { ...effective(r), logFile: msgFile(home, jobId), ...(r.background ? { outputFile: outFile(home, jobId) } : {}) };
}

/** getJobMessage: the job's `.msg` log. */
export function getJobMessage(home: string, jobId: string, v = viewer(home)): string {
  const r = getJobStatus(home, jobId, v);
  const f = readOwned(msgFile(home, jobId), r.uid);
  if (!f) throw notFound(`job ${jobId} has no log ${msgFile(home, jobId)} readable by ${v.name}`);
  return f.text;
}

export interface StatusRow {
  userName: string;
  type: JobType;
  startTime: string | null;
  dbName: string;
  tableName: string;
  totalPartitions: number;
  completedPartitions: number;
  percentComplete: number;
  /** Actual end, or an estimate from the rate so far while the job runs. */
  endTime: string | null;
  completed: 0 | 1;
  jobId: string;
  state: JobState;
}

const STATUS_TYPES: JobType[] = ['BACKUP_BY_COPY_FILE', 'RESTORE_BY_COPY_FILE', 'MIGRATE'];

/** getBackupStatus: one row per table per backup/restore/migrate job, newest job first; `n` keeps the newest n jobs. */
/** `scan` lets a caller that answers many requests (the server) share one recent scan of the records. */
export function getBackupStatus(home: string, opts: { n?: number; user?: string; viewer?: Viewer; now?: number; scan?: RecordScan } = {}): StatusRow[] {
  const v = opts.viewer ?? viewer(home);
  const keep = visibleFilter(v, opts.user);
  const now = opts.now ?? Date.now();
  const jobs = (opts.scan ?? scanRecords(home))
    .records.filter((r) => keep(r) && STATUS_TYPES.includes(r.type))
    .sort(newestFirst);
  return jobs
    .slice(0, opts.n ?? jobs.length)
    .map(effective)
    .flatMap((r) =>
      r.tables.map((t) => ({
        userName: r.userName,
        type: r.type,
        startTime: r.startTime ?? null,
        dbName: t.dbName,
        tableName: t.tableName,
        totalPartitions: t.totalPartitions,
        completedPartitions: t.completedPartitions,
        percentComplete: t.totalPartitions ? Math.round((t.completedPartitions / t.totalPartitions) * 1000) / 10 : r.state === 'done' ? 100 : 0,
        endTime: endTimeOf(r, t, now),
        completed: r.state === 'done' ? 1 : 0,
        jobId: r.jobId,
        state: r.state,
      })),
    );
}

function endTimeOf(r: JobRecord, t: JobRecord['tables'][number], now: number): string | null {
  if (!isActive(r)) return r.endTime ?? null;
  if (t.doneTime) return t.doneTime;
  const start = r.startTime ? Date.parse(r.startTime) : NaN;
  if (Number.isNaN(start)) return null;
  const byParts = t.totalPartitions ? t.completedPartitions / t.totalPartitions : 0;
  const byBytes = r.bytesTotal ? r.bytesDone / r.bytesTotal : 0;
  const frac = byParts > 0 ? byParts : byBytes;
  if (!(frac > 0)) return null;
  return new Date(start + (now - start) / Math.min(1, frac)).toISOString();
}

function activeVisible(home: string, jobId: string, v: Viewer): JobRecord {
  const r = getJobStatus(home, jobId, v);
  if (!isActive(r)) throw new CvError('CONFLICT', `job ${jobId} is not running (${r.state}${r.errorMsg ? `: ${r.errorMsg}` : ''})`);
  return r;
}

/** cancelJob: asks a running job to stop; it stops between blocks and releases its locks. */
export function cancelJob(home: string, jobId: string, v = viewer(home)): JobRecord {
  const r = activeVisible(home, jobId, v);
  writeControl(home, jobId, v.uid, { cancel: { by: v.name, at: new Date().toISOString() } });
  return r;
}

/** Changes a running job's shared rate limit (bytes/s, 0 = unlimited); it applies it within ~250 ms. */
export function throttleJob(home: string, jobId: string, bytesPerSec: number, v = viewer(home)): JobRecord {
  if (!Number.isFinite(bytesPerSec) || bytesPerSec < 0) throw usage(`bad rate ${bytesPerSec}`);
  const r = activeVisible(home, jobId, v);
  writeControl(home, jobId, v.uid, { rate: { bytesPerSec, by: v.name, at: new Date().toISOString() } });
  return r;
}

/** Polls a job's record until pred holds or timeoutMs passes; returns the last view. */
export async function waitForJob(home: string, jobId: string, pred: (r: JobRecord) => boolean, timeoutMs: number, v = viewer(home)): Promise<JobRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = getJobStatus(home, jobId, v);
    if (pred(r) || Date.now() >= end) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

