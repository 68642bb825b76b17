import os from 'node:os';
import { CvError, EXIT, asCvError } from '../../common/errors.js';
import { sleepSync } from '../../common/durable.js';
import { formatRate } from '../../common/units.js';
import type { CopyPipeline } from '../../io/index.js';
import type { Observer } from '../options.js';
import { mergedControl } from './control.js';
import { appendPrivateLine, ensureJobDirs, msgFile } from './files.js';
import { newJobId } from './ids.js';
import { processStartTicks } from './proc.js';
import { readRecord, writeRecord, type JobRecord, type JobType } from './record.js';
import { adminUids, currentUser } from './users.js';

export interface JobMeta {
  type: JobType;
  desc: string;
  /** The CLI arguments, for the record. */
  args: string[];
  /** The server's authenticated user who asked for the job (submitJob records it as the job's user). */
  apiUser?: string;
}

const POLL_MS = 250;
const MAX_RESULT_BYTES = 64 << 10;

const stamp = () => new Date().toISOString();

/**
 * Records one job in the cluster home while it runs: creates (or, for a background job, takes over)
 * its record, feeds per-table progress from the Observer, polls the control files every 250 ms for
 * cancel and rate changes, and writes the final state and the `.msg` log's last line.
 */
export class JobTracker {
  private readonly rec: JobRecord;
  private pipeline: CopyPipeline | undefined;
  private bytesBefore = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private dirty = false;
  private cancelledBy: string | undefined;
  private rateAt: string | undefined;
  private warned = false;
  private signalled = false;
  private readonly obeyUids: number[];

  private constructor(
    readonly home: string,
    rec: JobRecord,
  ) {
    this.rec = rec;
    this.obeyUids = [...new Set([rec.uid, ...adminUids(home)])];
  }

  get jobId(): string {
    return this.rec.jobId;
  }
  get holder(): string {
    return `job ${this.rec.jobId} (${this.rec.userName}, pid ${process.pid})`;
  }

  /**
   * A foreground job: a new record, running now. A background job (`jobId` given): the record its
   * submitter wrote, which must be this user's and still queued.
   */
  static begin(home: string, meta: JobMeta, jobId?: string): JobTracker {
    ensureJobDirs(home);
    const user = currentUser();
    const now = stamp();
    let rec: JobRecord;
    if (jobId) {
      const queued = waitForRecord(home, jobId);
      if (!queued) throw new CvError('NOT_FOUND', `job ${jobId} has no record in ${home}`);
      if (queued.uid !== user.uid) throw new CvError('CONFLICT', `job ${jobId} belongs to ${queued.userName}, not ${user.name}`);
      if (queued.state !== 'queued') throw new CvError('CONFLICT', `job ${jobId} is ${queued.state}, not queued`);
      rec = { ...queued, state: 'running', startTime: now, pid: process.pid, ...pidStart(process.pid) };
    } else {
      rec = {
        format: 1,
        jobId: newJobId(),
        jobDesc: meta.desc,
        type: meta.type,
        node: os.hostname(),
        userName: user.name,
        uid: user.uid,
        receivedTime: now,
        startTime: now,
        state: 'running',
        pid: process.pid,
        ...pidStart(process.pid),
        background: false,
        args: meta.args,
        bytesDone: 0,
        bytesTotal: 0,
        tables: [],
      };
    }
    const t = new JobTracker(home, rec);
    writeRecord(home, rec);
    t.log(`Start the job [${rec.jobId}]: ${rec.jobDesc}`);
    process.on('SIGINT', t.onSignal);
    process.on('SIGTERM', t.onSignal);
    t.timer = setInterval(() => t.poll(), POLL_MS);
    t.timer.unref();
    t.poll();
    if (t.cancelledBy) {
      const err = new CvError('CANCELLED', `job ${rec.jobId} was cancelled by ${t.cancelledBy} before it started`);
      t.fail(err);
      throw err;
    }
    return t;
  }

  /** What the operation reports to: progress rows, byte counts, and the pipeline for cancel/throttle. */
  readonly observer: Observer = {
    attach: (p) => {
      if (this.pipeline) this.bytesBefore += this.pipeline.bytesDone;
      this.pipeline = p;
      if (this.cancelledBy) p.cancel();
      if (this.rateAt !== undefined && this.rec.maxRate !== undefined) p.setRate(this.rec.maxRate);
      this.poll(true);
      this.rec.maxRate = p.rate;
      this.touch();
    },
    plan: (tables) => {
      for (const t of tables) {
        const row = this.rec.tables.find((r) => r.dbName === t.dbName && r.tableName === t.tableName);
        if (row) row.totalPartitions = t.total;
        else this.rec.tables.push({ dbName: t.dbName, tableName: t.tableName, totalPartitions: t.total, completedPartitions: 0 });
        this.log(`${t.dbName} ${t.tableName}: ${t.total} partition(s) to process`);
      }
      this.touch(true);
    },
    partitionDone: (tableName) => {
      // An unnamed partition counts toward the first unfinished table, so totals still add up.
      const open = (r: { completedPartitions: number; totalPartitions: number }) => r.completedPartitions < r.totalPartitions;
      const row = this.rec.tables.find((r) => r.tableName === tableName && open(r)) ?? this.rec.tables.find(open);
      if (!row) return;
      row.completedPartitions++;
      if (!open(row)) row.doneTime = stamp();
      this.touch();
    },
    bytes: (_done, total) => {
      this.rec.bytesTotal = total;
      this.touch();
    },
  };

  /** A line in the job log (e.g. the S3 retry count), between the start and end lines. */
  note(line: string): void {
    this.log(line);
  }

  /** The operation returned; `exitCode` non-zero (e.g. check found damage) marks the job failed. */
  finish(result: unknown, exitCode = 0): void {
    this.stop();
    this.rec.state = exitCode ? 'failed' : 'done';
    this.rec.exitCode = exitCode;
    if (exitCode) this.rec.errorMsg = `exit code ${exitCode} (${codeName(exitCode)})`;
    this.rec.endTime = stamp();
    try {
      const json = JSON.stringify(result);
      if (json !== undefined && json.length <= MAX_RESULT_BYTES) this.rec.result = JSON.parse(json) as unknown;
    } catch {
      /* a result that is not JSON is simply not kept */
    }
    this.save();
    this.log(exitCode ? `The job failed: ${this.rec.errorMsg}` : 'The job is done.');
  }

  /** The operation threw: records failed or cancelled, and returns the error to report (naming who cancelled). */
  fail(err: unknown): unknown {
    this.stop();
    const cv = asCvError(err); // an OS error (EACCES) keeps its code here, as the CLI's exit status does
    const cancelled = cv?.code === 'CANCELLED';
    this.rec.state = cancelled ? 'cancelled' : 'failed';
    this.rec.exitCode = cv ? cv.exitCode : EXIT.INTERNAL;
    this.rec.errorMsg = cancelled && this.cancelledBy ? `cancelled by ${this.cancelledBy}` : cv ? cv.message : String(err instanceof Error ? err.message : err);
    this.rec.endTime = stamp();
    this.save();
    this.log(`${cv?.code ?? 'INTERNAL'}: ${this.rec.errorMsg}`);
    return cancelled && this.cancelledBy ? new CvError('CANCELLED', `job ${this.rec.jobId} ${this.rec.errorMsg}`) : err;
  }

  /**
   * Ctrl-C or a plain `kill` cancels like `chunkvault cancel` (the lock is released, the record
   * says cancelled); a second signal exits at once.
   */
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.signalled) process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    this.signalled = true;
    if (this.cancelledBy) return;
    this.cancelledBy = `${this.rec.userName} (${sig})`;
    this.log(`Cancel requested by ${sig}`);
    this.pipeline?.cancel();
    this.touch(true);
  };

  private stop(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sampleBytes();
  }

  private sampleBytes(): void {
    if (this.pipeline) this.rec.bytesDone = this.bytesBefore + this.pipeline.bytesDone;
  }

  /** Applies control requests, samples the byte counter, and writes the record if it changed. */
  private poll(skipWrite = false): void {
    let ctl;
    try {
      ctl = mergedControl(this.home, this.rec.jobId, this.obeyUids);
    } catch {
      ctl = {};
    }
    if (ctl.cancel && !this.cancelledBy) {
      this.cancelledBy = ctl.cancel.by;
      this.log(`Cancel requested by ${ctl.cancel.by}`);
      this.pipeline?.cancel();
      this.dirty = true;
    }
    if (ctl.rate && ctl.rate.at !== this.rateAt) {
      this.rateAt = ctl.rate.at;
      this.pipeline?.setRate(ctl.rate.bytesPerSec);
      this.rec.maxRate = ctl.rate.bytesPerSec;
      this.log(`Rate limit set to ${formatRate(ctl.rate.bytesPerSec)} by ${ctl.rate.by}`);
      this.dirty = true;
    }
    const before = this.rec.bytesDone;
    this.sampleBytes();
    if (this.rec.bytesDone !== before) this.dirty = true;
    if (!skipWrite && this.dirty) this.save();
  }

  private touch(now = false): void {
    this.dirty = true;
    if (now || Date.now() - this.lastWrite >= POLL_MS) this.save();
  }

  private save(): void {
    this.sampleBytes();
    this.dirty = false;
    this.lastWrite = Date.now();
    try {
      writeRecord(this.home, this.rec);
    } catch (err) {
      this.warn(`cannot update job record: ${(err as Error).message}`);
    }
  }

  private log(line: string): void {
    try {
      appendPrivateLine(msgFile(this.home, this.rec.jobId), `${stamp()} ${line}`);
    } catch (err) {
      this.warn(`cannot write job log: ${(err as Error).message}`);
    }
  }

  private warn(msg: string): void {
    if (this.warned) return;
    this.warned = true;
    process.stderr.write(`chunkvault: warning: ${msg}\n`);
  }
}

function pidStart(pid: number): { pidStart?: string } {
  const t = processStartTicks(pid);
  return t === undefined ? {} : { pidStart: t };
}

/** The submitter writes the queued record just after spawning us: give it a moment. */
function waitForRecord(home: string, jobId: string): JobRecord | undefined {
  for (let i = 0; i < 200; i++) {
    const r = readRecord(home, jobId);
    if (r) return r;
    sleepSync(25);
  }
  return undefined;
}

function codeName(code: number): string {
  return Object.entries(EXIT).find(([, v]) => v === code)?.[0] ?? 'ERROR';
}
