import type { FastifyInstance } from 'fastify';
import { usage } from '../common/errors.js';
import { parseBytes } from '../common/units.js';
import { cancelJob, getBackupStatus, getJobMessage, getJobStatus, getRecentJobs, throttleJob, waitForJob, type JobRecord } from '../engine/index.js';
import { viewerOf, type ServerContext } from './app.js';
import { streamJobEvents } from './events.js';
import { sendJson } from './json.js';

const isActive = (r: JobRecord) => r.state === 'queued' || r.state === 'running';
const ID = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', maxLength: 200 } } } as const;
const LIST_QUERY = { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', minimum: 1 }, user: { type: 'string', maxLength: 200 } } } as const;

function parseRate(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw usage(`bad rate ${v}`);
    return v;
  }
  const text = String(v);
  if (/^(0|unlimited|none)$/i.test(text.trim())) return 0;
  return parseBytes(text);
}

type Q = { n?: number; user?: string };
const listOpts = (q: Q) => ({ ...(q.n ? { n: q.n } : {}), ...(q.user !== undefined ? { user: q.user } : {}) });

export function registerJobRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/jobs', { schema: { querystring: LIST_QUERY } }, async (req, reply) => sendJson(reply, getRecentJobs(ctx.home, { viewer: viewerOf(ctx, req), scan: ctx.reads.records(), ...listOpts(req.query as Q) }).jobs));

  app.get('/status', { schema: { querystring: LIST_QUERY } }, async (req, reply) => sendJson(reply, getBackupStatus(ctx.home, { viewer: viewerOf(ctx, req), scan: ctx.reads.records(), ...listOpts(req.query as Q) })));

  app.get('/jobs/:id', { schema: { params: ID } }, async (req, reply) => sendJson(reply, getJobStatus(ctx.home, (req.params as { id: string }).id, viewerOf(ctx, req))));

  app.get('/jobs/:id/log', { schema: { params: ID } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const text = getJobMessage(ctx.home, id, viewerOf(ctx, req));
    return sendJson(reply, { jobId: id, lines: text.split('\n').filter(Boolean) });
  });

  app.post(
    '/jobs/:id/cancel',
    { schema: { params: ID, body: { type: ['object', 'null'], additionalProperties: false, properties: { wait: { type: 'number', exclusiveMinimum: 0, maximum: 600 } } } } },
    async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const v = viewerOf(ctx, req);
      cancelJob(ctx.home, id, v);
      const wait = (req.body as { wait?: number } | null)?.wait;
      const r = wait ? await waitForJob(ctx.home, id, (x) => !isActive(x), wait * 1000, v) : getJobStatus(ctx.home, id, v);
      return sendJson(reply, { jobId: id, requested: true, state: r.state, errorMsg: r.errorMsg ?? null });
    },
  );

  app.post(
    '/jobs/:id/throttle',
    { schema: { params: ID, body: { type: 'object', additionalProperties: false, required: ['rate'], properties: { rate: { type: ['string', 'number'], maxLength: 64 } } } } },
    async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const v = viewerOf(ctx, req);
      const rate = parseRate((req.body as { rate: unknown }).rate);
      throttleJob(ctx.home, id, rate, v);
      const r = await waitForJob(ctx.home, id, (x) => x.maxRate === rate || !isActive(x), 3000, v);
      return sendJson(reply, { jobId: id, rate, applied: r.maxRate === rate, state: r.state });
    },
  );

  app.get('/jobs/:id/events', { schema: { params: ID } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const v = viewerOf(ctx, req);
    getJobStatus(ctx.home, id, v); // 404 before the stream starts
    return streamJobEvents(ctx.home, id, v, req, reply);
  });
}
