import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getBackupList, getBackupMeta, listPoints, prune, type RetentionPolicy } from '../engine/index.js';
import type { ServerContext } from './app.js';
import { sendJson } from './json.js';
import { checkValue } from './operations.js';
import { repoRoots } from './routes-ops.js';

const S = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const query = (required: string[], extra: Record<string, object> = {}) =>
  ({ type: 'object', additionalProperties: false, required, properties: { backupDir: S, dbPath: S, ...extra } }) as const;
const KEEP = { type: ['integer', 'string'], maxLength: 16 } as const;

/** Every string the client sent, checked for traversal and the repository roots. */
function checked<T extends Record<string, unknown>>(ctx: ServerContext, req: FastifyRequest, part: 'query' | 'body'): T {
  const v = (req[part] ?? {}) as T;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') checkValue(k, x, repoRoots(ctx));
  return v;
}

const keep = (v: unknown) => (v === undefined ? undefined : v === 'unlimited' ? -1 : Number(v));

export function policyOfBody(b: Record<string, unknown>): RetentionPolicy {
  const p: RetentionPolicy = {};
  for (const r of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) {
    const n = keep(b[`keep${r[0]!.toUpperCase()}${r.slice(1)}`]);
    if (n !== undefined) p[r] = n;
  }
  if (typeof b.keepWithin === 'string') p.within = b.keepWithin;
  return p;
}

export const PRUNE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['backupDir', 'dbPath'],
  properties: { backupDir: S, dbPath: S, keepLast: KEEP, keepHourly: KEEP, keepDaily: KEEP, keepWeekly: KEEP, keepMonthly: KEEP, keepYearly: KEEP, keepWithin: { type: 'string', maxLength: 64 }, dryRun: { type: 'boolean' } },
} as const;

export function registerRepoRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/points', { schema: { querystring: query(['backupDir', 'dbPath']) } }, async (req, reply) => {
    const q = checked<{ backupDir: string; dbPath: string }>(ctx, req, 'query');
    return sendJson(reply, listPoints(q.backupDir, q.dbPath));
  });

  app.get('/list', { schema: { querystring: query(['backupDir', 'dbPath', 'table'], { table: S, asOf: S }) } }, async (req, reply) => {
    const q = checked<{ backupDir: string; dbPath: string; table: string; asOf?: string }>(ctx, req, 'query');
    return sendJson(reply, getBackupList(q.backupDir, q.dbPath, q.table, q.asOf));
  });

  app.get('/meta', { schema: { querystring: query(['backupDir', 'dbPath', 'partition', 'table'], { partition: S, table: S, asOf: S }) } }, async (req, reply) => {
    const q = checked<{ backupDir: string; dbPath: string; partition: string; table: string; asOf?: string }>(ctx, req, 'query');
    return sendJson(reply, getBackupMeta(q.backupDir, q.dbPath, q.partition, q.table, q.asOf));
  });

  app.post('/prune', { schema: { body: PRUNE_BODY } }, async (req, reply) => {
    const b = checked<Record<string, unknown> & { backupDir: string; dbPath: string; dryRun?: boolean }>(ctx, req, 'body');
    const holder = `server (${req.principal?.user ?? 'local'}, pid ${process.pid})`;
    return sendJson(reply, prune(b.backupDir, b.dbPath, policyOfBody(b), { holder, dryRun: !!b.dryRun }));
  });
}
