import { LocalBackend } from './local.js';
import type { MessagePort } from 'node:worker_threads';
import type { CopyPipeline } from '../../io/index.js';
import { S3Backend } from './s3.js';
import { adoptAgentLinks, agentLinks, type AgentLink } from './s3-bridge.js';
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

/** A copy worker's task that may carry links to this process's S3 agents (s3-bridge.ts). */
export type WithAgents<T> = T & { agents?: AgentLink[] };

/** The task with a link to each S3 agent of this process, and the ports to transfer with it. */
export function withAgents<T extends object>(task: T): { payload: WithAgents<T>; transfer: MessagePort[] } {
  const agents = agentLinks();
  return agents.length ? { payload: { ...task, agents }, transfer: agents.map((a) => a.port) } : { payload: task, transfer: [] };
}

/** Runs a copy worker's task in the pool with links to this process's S3 agents (their ports move with it). */
export function runWithAgents<T>(pipe: Pick<CopyPipeline, 'runModule'>, module: string, task: object, disks: string[], createsOn?: string): Promise<T> {
  const { payload, transfer } = withAgents(task);
  return pipe.runModule<T>(module, payload, disks, transfer, createsOn);
}

/** In the worker, before the task opens a backend: reach the agents its links lead to. */
export function takeAgents(task: WithAgents<object>): void {
  adoptAgentLinks(task.agents);
}
