import { LocalBackend } from './local.js';
import type { Backend, BackendSpec } from './types.js';

export type { Backend, BackendSpec, ByteRange, ObjectInfo, ObjectReader, ObjectSink, WriteOptions } from './types.js';

const made = new Map<string, Backend>();

/** The backend a spec describes; one instance per spec in each thread (workers build their own). */
export function backendFor(spec: BackendSpec): Backend {
  const key = `${spec.kind}:${spec.root}`;
  let b = made.get(key);
  if (!b) made.set(key, (b = new LocalBackend(spec)));
  return b;
}
