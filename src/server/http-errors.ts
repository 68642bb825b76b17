import { CvError, EXIT, asCvError, usage, type ErrorCode } from '../common/errors.js';
import { asFlag } from './operations.js';

/** HTTP status per error code: the CLI's exit status in HTTP's words. */
const STATUS: Record<ErrorCode | 'INTERNAL' | 'UNAUTHORIZED', number> = {
  USAGE: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LOCKED: 423,
  IO: 500,
  CORRUPT: 422,
  CHECK_FAILED: 422,
  CANCELLED: 409,
  PARTIAL: 207,
  KEY: 403, // the repository's password, not the API token (that is 401)
  INTERNAL: 500,
  UNAUTHORIZED: 401,
};

export interface ErrorBody {
  error: { code: string; exitCode: number; message: string };
}

/** The CLI's `--json` error object, with the HTTP status for it. */
export function errorReply(err: unknown): { status: number; body: ErrorBody } {
  const mapped = fromFastify(err) ?? asCvError(err);
  if (mapped) {
    const status = (err as { statusCode?: number }).statusCode === 413 ? 413 : STATUS[mapped.code];
    return { status, body: { error: { code: mapped.code, exitCode: mapped.exitCode, message: mapped.message.split('\n')[0]! } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', exitCode: EXIT.INTERNAL, message: `internal error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` } } };
}

export const unauthorized = (): { status: number; body: ErrorBody } => ({
  status: 401,
  body: { error: { code: 'UNAUTHORIZED', exitCode: EXIT.USAGE, message: 'missing or unknown bearer token' } },
});

interface FastifyishError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: { keyword: string; instancePath: string; params: Record<string, unknown>; message?: string }[];
  validationContext?: string;
}

/** Fastify's own request errors (bad JSON, too large, schema) as the CLI's one-line USAGE errors. */
function fromFastify(err: unknown): CvError | undefined {
  const e = err as FastifyishError;
  if (e.validation?.length) {
    const v = e.validation[0]!;
    const where = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (v.keyword === 'additionalProperties') return usage(`unknown option '${asFlag(String(v.params.additionalProperty))}'`);
    if (v.keyword === 'required') return usage(`missing required argument '${String(v.params.missingProperty)}'`);
    return usage(`bad ${where || e.validationContext || 'request'}: ${v.message ?? v.keyword}`);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return usage('request body is larger than the server accepts (body-limit in the config)');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return usage(`malformed JSON body: ${e.message ?? ''}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return usage('the body must be application/json');
  }
  if (err instanceof SyntaxError) return usage(`malformed JSON body: ${err.message}`);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return usage(e.message ?? 'bad request');
  return undefined;
}
