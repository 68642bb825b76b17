import { Gauge, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './app.js';
import { databaseStates } from './db-state.js';

const STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
const secs = (iso: string | null | undefined) => (iso ? Date.parse(iso) / 1000 : 0);

/**
 * `GET /metrics` (Prometheus text): per configured database, read at scrape time from its
 * repository and the job records, so they hold across restarts and for jobs the CLI started.
 */
export function buildMetrics(ctx: ServerContext): { registry: Registry; refresh: () => void } {
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[] = ['db']) => new Gauge({ name: `chunkvault_${name}`, help, labelNames, registers: [registry] });
  const lastBackup = g('last_backup_timestamp_seconds', 'time of the last successful backup (its restore point), unix seconds; 0 when none');
  const lastCheck = g('last_clean_check_timestamp_seconds', 'end of the last check that found nothing bad, unix seconds; 0 when none');
  const duration = g('last_backup_duration_seconds', 'duration of the last successful backup job');
  const bytes = g('last_backup_bytes', 'bytes the last successful backup copied');
  const rate = g('last_backup_mb_per_second', 'MB/s (10^6 bytes) of the last successful backup job');
  const points = g('restore_points', 'restore points in the repository');
  const stored = g('stored_bytes', 'bytes the repository holds (each entry once, however many points share it)');
  const failures = g('check_failures', 'check jobs that found damage (exit 8)');
  const limit = g('rate_limit_bytes_per_second', 'current rate limit of the running job for this database (0 = unlimited or none)');
  const repoError = g('repository_error', '1 when the repository could not be read');
  const jobs = g('jobs', 'job records by state (as getRecentJobs shows them)', ['state']);
  const refresh = () => {
      const { databases, jobs: records } = databaseStates(ctx.cfg, ctx.home);
      for (const d of databases) {
        const l = { db: d.dbPath };
        lastBackup.set(l, secs(d.lastBackup?.time));
        lastCheck.set(l, secs(d.lastCleanCheck));
        duration.set(l, d.lastBackup?.seconds ?? 0);
        bytes.set(l, d.lastBackup?.bytes ?? 0);
        rate.set(l, d.lastBackup?.mbPerSec ?? 0);
        points.set(l, d.points.length);
        stored.set(l, d.storedBytes);
        failures.set(l, d.checkFailures);
        limit.set(l, d.runningRate);
        repoError.set(l, d.error ? 1 : 0);
      }
      for (const s of STATES) jobs.set({ state: s }, records.filter((r) => r.state === s).length);
  };
  return { registry, refresh };
}

export function registerMetricsRoute(app: FastifyInstance, ctx: ServerContext): void {
  const { registry, refresh } = buildMetrics(ctx);
  app.get('/metrics', async (_req, reply) => {
    refresh();
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
