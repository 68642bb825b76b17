import type { FastifyInstance } from 'fastify';
import { getJobStatus, getRecentJobs } from '../engine/index.js';
import { viewerOf, type ServerContext } from './app.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { databaseStates } from './db-state.js';
import { progressOf } from './events.js';
import { sendJson } from './json.js';

const older = (iso: string | null | undefined, hours: number, now: number) => !iso || now - Date.parse(iso) > hours * 3600_000;

/** The dashboard (one page, no build step) and the one query it polls. */
export function registerDashboardRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const page = async (_req: unknown, reply: import('fastify').FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(DASHBOARD_HTML);
  app.get('/', page);
  app.get('/dashboard', page);
  app.get('/health', async (_req, reply) => sendJson(reply, { ok: true }));

  app.get('/overview', async (req, reply) => {
    const now = Date.now();
    const v = viewerOf(ctx, req);
    const { databases } = databaseStates(ctx.cfg, ctx.home);
    const recent = getRecentJobs(ctx.home, { viewer: v, n: 30 }).jobs.map((j) => ({ ...progressOf(getJobStatus(ctx.home, j.jobId, v), now), result: null, jobDesc: j.jobDesc, userName: j.userName }));
    return sendJson(reply, {
      databases: databases.map((d) => ({
        ...d,
        backupStale: older(d.lastBackup?.time, d.maxAgeHours, now),
        checkStale: older(d.lastCleanCheck, d.maxAgeHours, now),
      })),
      jobs: recent,
    });
  });
}
