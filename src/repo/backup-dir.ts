import path from 'node:path';
import { backendFor, isS3Url, s3Spec, type Backend } from './backend/index.js';

/**
 * A backup directory as a backend: a local directory or an S3 URL (`s3://bucket/prefix`). Its own
 * objects (`config`, `keys/<id>`, `keys.lock`) and each database repository under it are read and
 * written through this one interface, so local and S3 share one code path (docs/FORMAT.md, "One
 * backup directory, one config").
 */
export function dirBackend(dir: string): Backend {
  return backendFor(isS3Url(dir) ? s3Spec(dir) : { kind: 'local', root: path.resolve(dir) });
}

/** The backend of the database repository `name` inside a backup directory. */
export function subBackend(dir: string, name: string): Backend {
  return backendFor(isS3Url(dir) ? s3Spec(dir, name) : { kind: 'local', root: path.join(path.resolve(dir), name) });
}
