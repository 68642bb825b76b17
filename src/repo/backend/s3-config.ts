import { usage } from '../../common/errors.js';
import { S3_ENV } from '../../common/s3-env.js';

/**
 * Where an S3 repository lives and how to reach it. Everything here is serialisable and holds no
 * secret: credentials are read from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN) by the thread that makes requests, so they never enter a spec, a task, a job
 * record or a message.
 */
export interface S3Spec {
  kind: 's3';
  /** `s3://bucket/prefix`, for messages and as the backend's identity. */
  root: string;
  bucket: string;
  /** Key prefix of every object, '' or ending in `/`. */
  prefix: string;
  /** AWS_ENDPOINT_URL or --s3-endpoint; absent means AWS itself. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (`endpoint/bucket/key`): needed by Ceph RGW, MinIO and most non-AWS stores. */
  pathStyle: boolean;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_PART_RE = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}$/;

export function isS3Url(dir: string): boolean {
  return dir.startsWith('s3://');
}

export { S3_ENV } from '../../common/s3-env.js';

/** Parses `s3://bucket/prefix` into a spec; `sub` is appended to the prefix (a database's directory). */
export function s3Spec(url: string, sub?: string, env: NodeJS.ProcessEnv = process.env): S3Spec {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw usage(`not an S3 URL: ${url} (expected s3://bucket/prefix)`);
  const bucket = m[1]!;
  if (!BUCKET_RE.test(bucket)) throw usage(`bad S3 bucket name "${bucket}" in ${url}`);
  const parts = m[2]!.split('/').filter((p) => p !== '');
  if (sub !== undefined) parts.push(sub);
  for (const p of parts) if (!PREFIX_PART_RE.test(p) || p === '.' || p === '..') throw usage(`bad S3 key prefix component "${p}" in ${url}`);
  const prefix = parts.length ? `${parts.join('/')}/` : '';
  const endpoint = env[S3_ENV.endpoint] || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(endpoint)) throw usage(`bad S3 endpoint "${endpoint}" (expected http(s)://host[:port])`);
  const ps = env[S3_ENV.pathStyle];
  // A custom endpoint is almost always an S3-compatible store (RGW, MinIO) that wants path style.
  const pathStyle = ps === undefined || ps === '' ? endpoint !== undefined : ps === '1' || ps === 'true';
  return { kind: 's3', root: `s3://${bucket}/${prefix}`.replace(/\/$/, ''), bucket, prefix, ...(endpoint ? { endpoint: endpoint.replace(/\/$/, '') } : {}), region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1', pathStyle };
}

/** The network queue's id for this endpoint: every S3 repository behind it shares its slots. */
export function endpointQueueId(spec: S3Spec): string {
  return `net:${spec.endpoint ?? `aws:${spec.region}`}`;
}

/** Attempts after the first on a retryable failure (5xx, throttling, connection reset or refused). */
export function retryBudget(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[S3_ENV.retries];
  if (v === undefined || v === '') return S3_RETRY.attempts;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw usage(`${S3_ENV.retries} must be an integer 0..100, got ${v}`);
  return n;
}

/**
 * A multipart upload under a repository's prefix older than this is an orphan (a killed backup's
 * pack: an aborted one is aborted at once) and prune aborts it. An hour, like the time a pack's
 * upload could take on a slow link several times over; CHUNKVAULT_S3_UPLOAD_AGE (seconds) sets it.
 */
export function orphanUploadAgeMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[S3_ENV.uploadAge];
  if (v === undefined || v === '') return 3600_000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw usage(`${S3_ENV.uploadAge} must be a number of seconds >= 0, got ${v}`);
  return n * 1000;
}

/**
 * Retry schedule: exponential backoff from 200 ms, capped at 5 s per wait, with full jitter
 * (AWS's "exponential backoff and jitter"). 8 retries wait up to ~21 s in all, enough to ride out
 * a gateway restart (a radosgw restart with data kept answers in 5-10 s here, ceph-s3.sh).
 */
export const S3_RETRY = { attempts: 8, baseMs: 200, capMs: 5000 } as const;

export function backoffMs(attempt: number): number {
  const max = Math.min(S3_RETRY.capMs, S3_RETRY.baseMs * 2 ** attempt);
  return max / 2 + Math.random() * (max / 2);
}
