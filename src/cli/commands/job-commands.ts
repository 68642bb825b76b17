import type { Command } from 'commander';
import { usage } from '../../common/errors.js';
import { formatBytes, formatRate, parseBytes } from '../../common/units.js';
import {
  cancelJob,
  getBackupStatus,
  getJobMessage,
  getJobStatus,
  getRecentJobs,
  throttleJob,
  viewer,
  waitForJob,
  type JobRecord,
  type JobSummary,
  type JobType,
  type StatusRow,
} from '../../engine/index.js';
import { action, intOpt } from '../action.js';
import { printJson, printKeyValues, printTable, shortTime } from '../output.js';

const isActive = (r: JobRecord) => r.state === 'queued' || r.state === 'running';

function parseRate(text: string): number {
  if (/^(0|unlimited|none)$/i.test(text.trim())) return 0;
  return parseBytes(text);
}

/** Job types as the commands that run them are named, for narrow text columns. */
const SHORT_TYPE: Record<JobType, string> = { BACKUP_BY_COPY_FILE: 'backup', RESTORE_BY_COPY_FILE: 'restore', MIGRATE: 'migrate', CHECK: 'check' };

function secondsOf(r: { startTime?: string | null; endTime?: string | null }): number {
  return r.startTime ? ((r.endTime ? Date.parse(r.endTime) : Date.now()) - Date.parse(r.startTime)) / 1000 : 0;
}

/** jobs as text: one narrow row per job (80 columns), its description and error wrapped below it. */
function printJobs(jobs: JobSummary[]): void {
  const rows = jobs.map((j) => ({
    jobId: j.jobId,
    type: SHORT_TYPE[j.type] ?? j.type,
    state: j.state,
    user: j.userName,
    seconds: j.startTime ? secondsOf(j).toFixed(1) : '',
    desc: j.jobDesc,
    error: j.errorMsg ? `error: ${j.errorMsg}` : '',
  }));
  printTable(rows, ['jobId', 'type', 'state', 'user', 'seconds'], ['desc', 'error']);
}

/** status as text: the progress columns in a row (80 columns), what the row is about wrapped below it. */
function printStatus(rows: StatusRow[]): void {
  printTable(
    rows.map((r) => ({
      jobId: r.jobId,
      state: r.state,
      partitions: `${r.completedPartitions}/${r.totalPartitions}`,
      percent: r.percentComplete.toFixed(1),
      'endTime (UTC)': shortTime(r.endTime),
      about: `${SHORT_TYPE[r.type] ?? r.type} ${r.dbName} ${r.tableName} by ${r.userName}`,
    })),
    ['jobId', 'state', 'partitions', 'percent', 'endTime (UTC)'],
    ['about'],
  );
}

function registerJobQueries(program: Command): void {
  program
    .command('jobs')
    .description('recent jobs (DolphinDB getRecentJobs), newest first; --json has every field')
    .option('-n, --number <n>', 'only the newest n jobs', intOpt('-n'))
    .option('--user <name>', 'only this user\'s jobs (admins)')
    .action(
      action((ctx, o: { number?: number; user?: string }) => {
        const home = ctx.home();
        const v = viewer(home);
        const res = getRecentJobs(home, { viewer: v, ...(o.number ? { n: o.number } : {}), ...(o.user !== undefined ? { user: o.user } : {}) });
        if (ctx.json) return printJson(res.jobs);
        printJobs(res.jobs);
        if (v.admin && v.uid !== 0 && res.unreadable) process.stderr.write(`note: ${res.unreadable} job record(s) of other users are not readable by ${v.name} (records are 0600; only root reads them all)\n`);
      }),
    );

  program
    .command('job <jobId>')
    .description('one job (DolphinDB getJobStatus): state, times, progress per table, result')
    .action(
      action((ctx, id: string) => {
        const r = getJobStatus(ctx.home(), id);
        if (ctx.json) return printJson(r);
        const secs = secondsOf(r);
        printKeyValues({
          jobId: r.jobId,
          jobDesc: r.jobDesc,
          type: r.type,
          state: r.state,
          node: r.node,
          userName: r.userName,
          pid: r.pid ?? '',
          receivedTime: r.receivedTime,
          startTime: r.startTime ?? '',
          endTime: r.endTime ?? '',
          errorMsg: r.errorMsg ?? '',
          bytes: `${formatBytes(r.bytesDone)} of ${formatBytes(r.bytesTotal)}`,
          mbPerSec: secs > 0 ? Math.round((r.bytesDone / 1e6 / secs) * 10) / 10 : 0,
          maxRate: formatRate(r.maxRate ?? 0),
          log: r.logFile,
          ...(r.outputFile ? { output: r.outputFile } : {}),
        });
        if (r.tables.length) {
          process.stdout.write('\n');
          printTable(r.tables as unknown as Record<string, unknown>[], ['dbName', 'tableName', 'totalPartitions', 'completedPartitions']);
        }
      }),
    );

  program
    .command('job-log <jobId>')
    .description('a job\'s log <home>/batchJobs/<jobId>.msg (DolphinDB getJobMessage)')
    .action(
      action((ctx, id: string) => {
        const text = getJobMessage(ctx.home(), id);
        if (ctx.json) printJson({ jobId: id, lines: text.split('\n').filter(Boolean) });
        else process.stdout.write(text);
      }),
    );
}

function registerJobControl(program: Command): void {
  program
    .command('cancel <jobId>')
    .description('ask a running job to stop (DolphinDB cancelJob): it stops between blocks, releases its lock, and a rerun resumes')
    .option('--wait [seconds]', 'wait until the job has stopped (default 30 s)')
    .action(
      action(async (ctx, id: string, o: { wait?: boolean | string }) => {
        const home = ctx.home();
        cancelJob(home, id);
        let r: JobRecord = getJobStatus(home, id);
        if (o.wait !== undefined) {
          const secs = o.wait === true ? 30 : Number(o.wait);
          if (!Number.isFinite(secs) || secs <= 0) throw usage(`--wait must be a positive number of seconds, got "${o.wait}"`);
          r = await waitForJob(home, id, (x) => !isActive(x), secs * 1000);
        }
        if (ctx.json) printJson({ jobId: id, requested: true, state: r.state, errorMsg: r.errorMsg ?? null });
        else process.stdout.write(isActive(r) ? `cancel requested for job ${id} (state ${r.state})\n` : `job ${id} ${r.state}${r.errorMsg ? `: ${r.errorMsg}` : ''}\n`);
      }),
    );

  program
    .command('throttle <jobId> <rate>')
    .description('change a running job\'s shared rate limit live, e.g. 50MB (per second); 0 = unlimited')
    .action(
      action(async (ctx, id: string, rateText: string) => {
        const home = ctx.home();
        const rate = parseRate(rateText);
        throttleJob(home, id, rate);
        const r = await waitForJob(home, id, (x) => x.maxRate === rate || !isActive(x), 3000);
        const applied = r.maxRate === rate;
        if (ctx.json) printJson({ jobId: id, rate, applied, state: r.state });
        else process.stdout.write(applied ? `job ${id}: rate limit now ${formatRate(rate)}\n` : `job ${id}: rate change requested (state ${r.state}; not yet applied)\n`);
      }),
    );

  program
    .command('status')
    .description('backup, restore and migrate jobs, one row per table (DolphinDB getBackupStatus), newest first; kept across restarts; --json has every field')
    .option('-n, --number <n>', 'only the rows of the newest n jobs', intOpt('-n'))
    .option('--user <name>', 'only this user\'s jobs (admins)')
    .action(
      action((ctx, o: { number?: number; user?: string }) => {
        const rows = getBackupStatus(ctx.home(), { ...(o.number ? { n: o.number } : {}), ...(o.user !== undefined ? { user: o.user } : {}) });
        if (ctx.json) return printJson(rows);
        printStatus(rows);
      }),
    );
}

export function registerJobCommands(program: Command): void {
  registerJobQueries(program);
  registerJobControl(program);
}
