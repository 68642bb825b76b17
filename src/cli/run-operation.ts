import { CvError } from '../common/errors.js';
// Each from its own module, not engine/index.js: that barrel loads every operation (~60 modules), and
// a no-change backup's wall time is mostly Node loading modules.
import type { JobType, Observer } from '../engine/index.js';
import { JobTracker } from '../engine/jobs/tracker.js';
import { submitJob } from '../engine/jobs/submit.js';
import { msgFile } from '../engine/jobs/files.js';
import { s3Retries } from '../engine/options.js';
import { isCluster, resolveHome } from '../store/index.js';
import type { Ctx } from './action.js';
import { printJson } from './output.js';
import { progressBar } from './progress.js';

/** The job types getBackupStatus reports, plus the other long operations that can run as jobs. */
export type OperationType = JobType;

export interface OperationMeta {
  type: OperationType;
  /** e.g. "backup dfs://testdb to /bak" */
  desc: string;
  /** The operation lays out a missing or empty home as a new cluster (restores); a background submit does it first, to record the job there. */
  layoutHome?: boolean;
}

/** Global options that only runOperation reads: `--background`, and the hidden `--job-id` a background child gets. */
export interface JobGlobals {
  background?: boolean;
  jobId?: string;
}

/**
 * Every long command runs through here. With `--background` it submits the same command line as a
 * detached job, prints the job id and returns. Otherwise it runs the operation with an observer
 * (progress bar on a TTY, plus the job record in `<home>/jobs` when there is a cluster home) and a
 * lock holder name, and renders the result as --json or human output. `render` may return an exit
 * code (check returns 8 when it found damage); the job record keeps it.
 */
export async function runOperation<T>(
  ctx: Ctx,
  meta: OperationMeta,
  fn: (observer: Observer, holder: string) => Promise<T>,
  render: (result: T) => number | void,
): Promise<number | void> {
  const g = ctx.globals as typeof ctx.globals & JobGlobals;
  const args = process.argv.slice(2).filter((a) => a !== '--background');
  if (g.background) {
    if (g.jobId) throw new CvError('USAGE', '--background and --job-id cannot be combined');
    if (meta.layoutHome) (await import('../engine/restore-plan.js')).openTargetCluster(resolveHome(ctx.globals.home), true); // as the foreground run would
    const home = requireJobHome(ctx);
    const s = submitJob(home, { type: meta.type, desc: meta.desc, args }, process.argv[1]!, args);
    const follow = `chunkvault --home ${shellQuote(home)} job ${s.jobId}`;
    if (ctx.json) printJson({ jobId: s.jobId, pid: s.pid, log: msgFile(home, s.jobId), output: s.output, follow });
    else {
      // The id alone on stdout, for scripts; the hint for people on stderr.
      process.stdout.write(`${s.jobId}\n`);
      process.stderr.write(`chunkvault: submitted job ${s.jobId}; follow it with: ${follow} (log: job-log, stop: cancel)\n`);
    }
    return 0;
  }

  let tracker: JobTracker | undefined;
  if (g.jobId) tracker = JobTracker.begin(requireJobHome(ctx), { type: meta.type, desc: meta.desc, args }, g.jobId);
  else {
    const home = optionalHome(ctx);
    if (home) {
      try {
        tracker = JobTracker.begin(home, { type: meta.type, desc: meta.desc, args });
      } catch (err) {
        // A job record is for watching; not being able to write one must not stop the work.
        process.stderr.write(`chunkvault: warning: running without a job record: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }

  const bar = progressBar(meta.type === 'CHECK' ? 'check' : meta.type === 'BACKUP_BY_COPY_FILE' ? 'backup' : 'restore', ctx.json);
  const t = tracker?.observer;
  const observer: Observer = {
    attach: (p) => t?.attach?.(p),
    plan: (tables) => t?.plan?.(tables),
    partitionDone: (table) => t?.partitionDone?.(table),
    bytes: (d, total) => {
      bar.update(d, total);
      t?.bytes?.(d, total);
    },
  };
  let result: T;
  try {
    result = await fn(observer, tracker?.holder ?? `pid ${process.pid}`);
  } catch (err) {
    await noteRetries(tracker);
    throw tracker ? tracker.fail(err) : err;
  } finally {
    bar.stop();
  }
  const retries = await noteRetries(tracker);
  // An operation on an S3 repository reports its retries (--json: netRetries).
  if (retries !== undefined && result && typeof result === 'object' && !Array.isArray(result)) (result as Record<string, unknown>).netRetries = retries;
  let code: number | void;
  try {
    code = render(result);
  } catch (err) {
    tracker?.fail(err);
    throw err;
  }
  tracker?.finish(result, code ?? 0);
  return code;
}

/** The S3 retries of this run into the job log; undefined when no S3 repository was used. */
async function noteRetries(tracker: JobTracker | undefined): Promise<number | undefined> {
  const n = await s3Retries();
  if (n !== undefined) tracker?.note(`S3 retries: ${n}`);
  return n;
}

/** A path as a POSIX shell word: unchanged when it is safe, else single-quoted. */
function shellQuote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

function requireJobHome(ctx: Ctx): string {
  const home = resolveHome(ctx.globals.home);
  if (!isCluster(home)) throw new CvError('NOT_FOUND', `${home} is not a chunkvault cluster home: background jobs are recorded there (pass --home or set CHUNKVAULT_HOME)`);
  return home;
}

/** The cluster home if one is given and valid; check may run without one (then no job record). */
function optionalHome(ctx: Ctx): string | undefined {
  try {
    const home = resolveHome(ctx.globals.home);
    return isCluster(home) ? home : undefined;
  } catch {
    return undefined;
  }
}

