import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/durable.js';
import { asCvError } from '../common/errors.js';
import { apiViewer, getJobStatus, prune, type JobRecord } from '../engine/index.js';
import type { ServerContext } from './app.js';
import type { ScheduleConfig } from './config.js';
import { OPERATIONS } from './operations.js';
import { startJob } from './routes-ops.js';
import type { RunOutcome, SchedulerDeps } from './scheduler.js';

/** Jobs a schedule starts are recorded under this user (an admin's view shows them). */
export const SCHEDULER_USER = 'scheduler';

const op = (command: string) => OPERATIONS.find((o) => o.command === command)!;

async function waitEnd(ctx: ServerContext, jobId: string): Promise<JobRecord> {
  const v = apiViewer(ctx.home, SCHEDULER_USER, true);
  for (;;) {
    const r = getJobStatus(ctx.home, jobId, v);
    if (r.state !== 'queued' && r.state !== 'running') return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Runs one schedule's action: backup-db --skip-if-unchanged, check (--sample) or prune (its retention). */
export async function executeSchedule(ctx: ServerContext, s: ScheduleConfig): Promise<RunOutcome> {
  const db = ctx.cfg.databases.find((d) => d.name === s.database)!;
  const backupDir = ctx.cfg.repositories[db.repository]!;
  if (s.action === 'prune') {
    try {
      prune(backupDir, db.dbPath, db.retention!, { holder: `server schedule ${s.name} (pid ${process.pid})` });
      return 'done';
    } catch (err) {
      if (asCvError(err)?.code === 'LOCKED') return 'locked';
      throw err;
    }
  }
  const body = s.action === 'backup' ? { backupDir, dbPath: db.dbPath, skipIfUnchanged: true } : { backupDir, dbPath: db.dbPath, ...(s.samplePercent ? { sample: s.samplePercent } : {}) };
  const started = startJob(ctx, op(s.action === 'backup' ? 'backup-db' : 'check'), body, SCHEDULER_USER);
  const r = await waitEnd(ctx, started.jobId);
  if (r.exitCode === 5) return 'locked';
  return r.state === 'done' ? 'done' : r.state === 'cancelled' ? 'cancelled' : 'failed';
}

/** `<home>/server/schedules.json`: when each schedule last became due. */
export function fileLastDue(home: string): SchedulerDeps['lastDue'] {
  const file = path.join(home, 'server', 'schedules.json');
  let state: Record<string, number> = Object.create(null) as Record<string, number>;
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { lastDue?: Record<string, number> };
    for (const [k, v] of Object.entries(parsed.lastDue ?? {})) if (typeof v === 'number') state[k] = v;
  } catch {
    state = Object.create(null) as Record<string, number>;
  }
  return {
    get: (name) => state[name],
    set: (name, at) => {
      state[name] = at;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, JSON.stringify({ lastDue: state }, null, 1) + '\n', { mode: 0o600 });
    },
  };
}
