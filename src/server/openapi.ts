import type { FastifyInstance, RouteOptions } from 'fastify';

interface Collected {
  method: string;
  url: string;
  schema: Record<string, unknown> | undefined;
}

const ERROR = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, exitCode: { type: 'integer' }, message: { type: 'string' } } } } };

/** Collects every route as it is registered (call before registering them). */
export function collectRoutes(app: FastifyInstance): Collected[] {
  const routes: Collected[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m.toLowerCase(), url: r.url, schema: r.schema as Record<string, unknown> | undefined });
  });
  return routes;
}

function parametersOf(c: Collected): object[] {
  const out: object[] = [];
  for (const name of c.url.match(/:(\w+)/g) ?? []) out.push({ name: name.slice(1), in: 'path', required: true, schema: { type: 'string' } });
  const q = c.schema?.querystring as { properties?: Record<string, object>; required?: string[] } | undefined;
  for (const [name, schema] of Object.entries(q?.properties ?? {})) out.push({ name, in: 'query', required: q?.required?.includes(name) ?? false, schema });
  return out;
}

/** The OpenAPI 3.1 document of the routes collected; bodies are the CLI's --json shapes (docs/CLI.md). */
export function openApiDocument(routes: Collected[]): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const c of routes) {
    if (c.url === '/openapi.json') continue;
    const p = c.url.replace(/:(\w+)/g, '{$1}');
    const body = c.schema?.body;
    paths[p] ??= {};
    paths[p][c.method] = {
      operationId: `${c.method}${p.replace(/[{}]/g, '').replace(/[-/](\w)/g, (_m, ch: string) => ch.toUpperCase())}`,
      parameters: parametersOf(c),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses: {
        [c.method === 'post' && !/\/(prune|cancel|throttle)$/.test(c.url) ? '202' : '200']: { description: "the CLI's --json output for this command (docs/CLI.md, JSON output)" },
        '4XX': { description: "the CLI's one-line error", content: { 'application/json': { schema: ERROR } } },
      },
      security: [{ bearer: [] }],
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'chunkvault server', version: '0.1.0', description: 'Every CLI operation and query; long operations return a job id at once (202) and run as ordinary background jobs.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
