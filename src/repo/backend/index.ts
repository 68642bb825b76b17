import { LocalBackend } from './local.js';
import { S3Backend } from './s3.js';
import type { Backend, BackendSpec } from './types.js';

export type { Backend, BackendSpec, ByteRange, LocalSpec, ObjectInfo, ObjectReader, ObjectSink, RepoLock, WriteOptions } from './types.js';
export { S3Backend } from './s3.js';
export { s3Retries } from './s3-retries.js';
export { endpointQueueId, isS3Url, s3Spec, S3_ENV, type S3Spec } from './s3-config.js';

const made = new Map<string, Backend>();

/** The backend a spec describes; one instance per spec in each thread (workers build their own). */
export function backendFor(spec: BackendSpec): Backend {
  const key = spec.kind === 's3' ? `s3:${spec.endpoint ?? spec.region}:${spec.root}` : `local:${spec.root}`;
  let b = made.get(key);
  if (!b) made.set(key, (b = spec.kind === 's3' ? new S3Backend(spec) : new LocalBackend(spec)));
  return b;
}
