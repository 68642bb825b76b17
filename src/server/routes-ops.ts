import type { FastifyInstance } from 'fastify';
import { ensureJobDirs, msgFile, openTargetCluster, submitJob } from '../engine/index.js';
import { apiUserOf, type ServerContext } from './app.js';
import { sendJson } from './json.js';
import { bodySchema, describeOp, OPERATIONS, toArgs, type OperationSpec } from './operations.js';

/** Roots a backupDir must lie in: the configured repositories (none configured: any path). */
export const repoRoots = (ctx: ServerContext) => Object.values(ctx.cfg.repositories);

/**
 * Starts an operation as an ordinary background job: `node dist/bundle/cli.js --home H --json
 * <command> <args> --job-id <id>`, exactly what `chunkvault --background` starts, so `chunkvault
 * jobs` sees it and cancel/throttle reach it the same way. Returns the CLI's --background shape.
 */
export function startJob(ctx: ServerContext, op: OperationSpec, body: Record<string, unknown>, apiUser: string | undefined) {
  const args = ['--home', ctx.home, '--json', ...toArgs(op, body, repoRoots(ctx))];
  if (op.type === 'RESTORE_BY_COPY_FILE' || op.type === 'MIGRATE') openTargetCluster(ctx.home, true);
  ensureJobDirs(ctx.home);
  ctx.reads.invalidate();
  const s = submitJob(ctx.home, { type: op.type, desc: describeOp(op, body), args, ...(apiUser !== undefined ? { apiUser } : {}) }, ctx.cliScript, args);
  ctx.reads.invalidate();
  return { jobId: s.jobId, pid: s.pid, log: msgFile(ctx.home, s.jobId), output: s.output, follow: `/jobs/${s.jobId}/events` };
}

export function registerOperationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  for (const op of OPERATIONS) {
    app.post(
      `/${op.command}`,
      { schema: { body: bodySchema(op) } },
      async (req, reply) => sendJson(reply, startJob(ctx, op, req.body as Record<string, unknown>, apiUserOf(req)), 202),
    );
  }
}
