import { parseArgs } from 'node:util';
import { asCvError, CvError } from '../common/errors.js';
import { isCluster, resolveHome } from '../store/index.js';
import { buildApp, type ServerContext } from './app.js';
import { checkExposure, parseListen } from './auth.js';
import { loadConfig, resolveSettings } from './config.js';
import { collectRoutes, openApiDocument } from './openapi.js';
import { registerDashboardRoutes } from './routes-dashboard.js';
import { registerJobRoutes } from './routes-jobs.js';
import { registerMetricsRoute } from './metrics.js';
import { registerOperationRoutes } from './routes-ops.js';
import { registerRepoRoutes } from './routes-repo.js';
import { executeSchedule, fileLastDue } from './schedule-exec.js';
import { Scheduler, systemClock } from './scheduler.js';
import { SharedReads } from './shared-reads.js';
import { entryPath } from '../common/entry-points.js';

/** The CLI the jobs run, by path (nothing imports cli): what `chunkvault --background` spawns. */
const CLI_SCRIPT = entryPath('cli');

/**
 * `node dist/server/main.js [--listen H:P] [--config FILE] [--home DIR]` (what `chunkvault server`
 * execs). Prints one JSON line `{"listening": "http://…"}` on stdout once it accepts connections;
 * request log lines (method, path, status, ms, user; never a header) go to stderr.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { listen: { type: 'string' }, config: { type: 'string' }, home: { type: 'string' } }, strict: true });
  const cfg = resolveSettings(loadConfig(values.config ?? process.env.CHUNKVAULT_CONFIG), { ...(values.listen ? { listen: values.listen } : {}), ...(values.home ? { home: values.home } : {}) });
  const { host, port } = parseListen(cfg.listen);
  checkExposure(host, cfg.tokens);
  const home = resolveHome(cfg.home);
  if (!isCluster(home)) throw new CvError('NOT_FOUND', `${home} is not a chunkvault cluster home (set home in the config, CHUNKVAULT_HOME or --home)`);
  const ctx: ServerContext = { cfg, home, cliScript: CLI_SCRIPT, log: (l) => process.stderr.write(l + '\n'), reads: new SharedReads(home) };
  const app = buildApp(ctx);
  const routes = collectRoutes(app);
  registerOperationRoutes(app, ctx);
  registerRepoRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerMetricsRoute(app, ctx);
  registerDashboardRoutes(app, ctx);
  app.get('/openapi.json', async (_req, reply) => reply.send(openApiDocument(routes)));
  const address = await app.listen({ host, port });
  const scheduler = new Scheduler(cfg.schedules, {
    clock: systemClock,
    execute: (s) => executeSchedule(ctx, s),
    repoKey: (s) => {
      const db = cfg.databases.find((d) => d.name === s.database)!;
      return `${cfg.repositories[db.repository]}|${db.dbPath}`;
    },
    lastDue: fileLastDue(home),
    log: ctx.log,
  });
  scheduler.start();
  process.stdout.write(JSON.stringify({ listening: address, home, schedules: cfg.schedules.length }) + '\n');
  const shutdown = () => {
    scheduler.stop();
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  const cv = asCvError(err) ?? (err instanceof TypeError && /Unknown option|unexpected argument/i.test(err.message) ? new CvError('USAGE', err.message) : undefined);
  process.stderr.write(`chunkvault: ${cv ? '' : 'internal error: '}${(cv?.message ?? (err instanceof Error ? err.message : String(err))).split('\n')[0]}\n`);
  process.exitCode = cv?.exitCode ?? 1;
}
