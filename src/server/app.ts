import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Viewer } from '../engine/index.js';
import type { SharedReads } from './shared-reads.js';
import { CvError } from '../common/errors.js';
import { authenticate, type Principal } from './auth.js';
import type { ServerConfig } from './config.js';
import { errorReply, unauthorized } from './http-errors.js';

/** What every route needs: the settings, the cluster home, and who is asking. */
export interface ServerContext {
  cfg: ServerConfig;
  home: string;
  /** The CLI's main (`entryPath('cli')`): jobs run it, as `chunkvault --background` would. */
  cliScript: string;
  /** Where one line per request goes (never a header, never a token). */
  log: (line: string) => void;
  /** Job-record scans and viewers shared by concurrent requests. */
  reads: SharedReads;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** Paths anyone on the socket may read: the dashboard's shell (it asks for a token) and liveness. */
const PUBLIC = new Set(['/', '/dashboard', '/health', '/openapi.json']);

/** The API user's view of jobs: a token's user; without tokens (loopback only), the server's own OS user, as the CLI would. */
export function viewerOf(ctx: ServerContext, req: FastifyRequest): Viewer {
  return ctx.reads.viewerFor(req.principal);
}

/** The user name jobs are recorded under: the token's user, or the server's OS user. */
export const apiUserOf = (req: FastifyRequest) => req.principal?.user;

export function buildApp(ctx: ServerContext): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: ctx.cfg.bodyLimit,
    // Unknown keys are errors, not silently dropped (fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true, coerceTypes: 'array', useDefaults: false, allErrors: false } },
    return503OnClosing: true,
  });
  app.decorateRequest('principal', undefined);
  const started = new WeakMap<FastifyRequest, bigint>();

  app.addHook('onRequest', async (req, reply) => {
    started.set(req, process.hrtime.bigint());
    const path = req.url.split('?')[0]!;
    if (ctx.cfg.tokens.length === 0) return;
    req.principal = authenticate(req.headers.authorization, ctx.cfg.tokens);
    if (!req.principal && !PUBLIC.has(path)) {
      const e = unauthorized();
      return reply.code(e.status).header('www-authenticate', 'Bearer').send(e.body);
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const t0 = started.get(req);
    const ms = t0 === undefined ? 0 : Number(process.hrtime.bigint() - t0) / 1e6;
    ctx.log(`${new Date().toISOString()} ${req.method} ${req.url.split('?')[0]} ${reply.statusCode} ${ms.toFixed(1)}ms ${req.principal?.user ?? '-'}`);
  });

  app.setErrorHandler((err, _req, reply: FastifyReply) => {
    const e = errorReply(err);
    if (e.body.error.code === 'INTERNAL') ctx.log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return reply.code(e.status).send(e.body);
  });
  app.setNotFoundHandler((req, reply) => {
    const e = errorReply(new CvError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`));
    return reply.code(e.status).send(e.body);
  });
  return app;
}
