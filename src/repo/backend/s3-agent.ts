/**
 * The S3 agent: a helper thread that owns one S3 client and runs requests asynchronously for a
 * thread that waits synchronously (s3-bridge.ts). Each reply is posted, then a shared counter is
 * bumped and notified, so the waiting thread can take it with receiveMessageOnPort.
 * Multipart parts run concurrently here while the caller keeps building the pack. One agent
 * serves every bucket and prefix of its endpoint (a request names its spec) for the thread that
 * started it and for every copy worker given a link to it (s3-bridge.ts, agentLinks): each client
 * has its own port and counter. Loading the SDK and making a client cost ~0.3-0.4 CPU s a thread,
 * so a process with four copy workers paid for five agents (docs/PERFORMANCE.md, session 12).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { CvError } from '../../common/errors.js';
import { S3Ops } from './s3-ops.js';
import type { S3Spec } from './s3-config.js';

export interface AgentRequest {
  id: number;
  spec: S3Spec;
  op: 'stat' | 'list' | 'get' | 'put' | 'remove' | 'part' | 'commit' | 'abort' | 'abortOld';
  /** abortOld: multipart uploads started before this time (ms since the epoch). */
  before?: number;
  name?: string;
  body?: Uint8Array;
  range?: { offset: number; length: number };
  createOnly?: boolean;
  /** A range GET that may end early (the object is shorter): read-ahead's first window. */
  short?: boolean;
  /** A GET's body goes into this buffer (a read-ahead window, transferred), which the reply's bytes view and carry back. */
  into?: ArrayBuffer;
  ifMatch?: string;
  /** Multipart handle (one per ObjectSink of the client's thread) and part number (from 1). */
  upload?: number;
  part?: number;
}
export interface AgentReply {
  id: number;
  value?: unknown;
  error?: { code: CvError['code'] | 'INTERNAL'; message: string };
}

/** One thread this agent answers: its port and the counter it waits on. */
export interface AgentClient {
  port: MessagePort;
  seq: Int32Array;
}
/** Sent on the first client's port: serve another thread, whose side of `port` it was given. */
export interface AgentAttach {
  attach: AgentClient;
}
/** One client per bucket and prefix (S3Ops keys, messages and retries by its spec); root names it. */
const opsByRoot = new Map<string, S3Ops>();
function opsFor(spec: S3Spec): S3Ops {
  let o = opsByRoot.get(spec.root);
  if (!o) opsByRoot.set(spec.root, (o = new S3Ops(spec)));
  return o;
}
interface Upload {
  name: string;
  id: Promise<string>;
  parts: Promise<string>[];
}
const uploads = new Map<string, Upload>();

function reply(c: AgentClient, r: AgentReply, transfer: ArrayBuffer[] = []): void {
  c.port.postMessage(r, transfer);
  Atomics.add(c.seq, 0, 1);
  Atomics.notify(c.seq, 0);
}

/** Multipart handles are numbered per client thread: `client` keeps them apart here. */
async function handle(q: AgentRequest, client: number): Promise<unknown> {
  const key = `${client}:${q.upload}`;
  const ops = opsFor(q.spec);
  switch (q.op) {
    case 'stat':
      return ops.stat(q.name!);
    case 'list':
      return ops.list(q.name!);
    case 'get':
      return ops.get(q.name!, q.range, q.short === true, q.into);
    case 'put':
      return ops.put(q.name!, q.body!, { ...(q.createOnly ? { createOnly: true } : {}), ...(q.ifMatch ? { ifMatch: q.ifMatch } : {}) });
    case 'remove':
      return ops.remove(q.name!);
    case 'part': {
      let u = uploads.get(key);
      if (!u) uploads.set(key, (u = { name: q.name!, id: ops.startUpload(q.name!), parts: [] }));
      const p = u.id.then((uploadId) => ops.uploadPart(u.name, uploadId, q.part!, q.body!));
      p.catch(() => undefined); // awaited by commit; an unobserved rejection must not kill the thread
      u.parts[q.part! - 1] = p;
      return p.then(() => undefined);
    }
    case 'commit': {
      const u = uploads.get(key)!;
      const uploadId = await u.id;
      await ops.completeUpload(u.name, uploadId, await Promise.all(u.parts));
      uploads.delete(key);
      return undefined;
    }
    case 'abort': {
      const u = uploads.get(key);
      uploads.delete(key);
      if (u) await ops.abortUpload(u.name, await u.id).catch(() => undefined);
      return undefined;
    }
    case 'abortOld':
      return ops.abortUploadsBefore(q.before!);
  }
}

const asReplyError = (err: unknown): NonNullable<AgentReply['error']> =>
  err instanceof CvError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: `S3 agent: ${(err as Error)?.name ?? 'error'}` };

let clients = 0;
function serve(c: AgentClient): void {
  const client = clients++;
  c.port.on('message', (q: AgentRequest | AgentAttach) => {
    if ('attach' in q) return serve(q.attach);
    handle(q, client).then(
      (value) => {
        const bytes = (value as { bytes?: Uint8Array } | undefined)?.bytes;
        try {
          reply(c, { id: q.id, value }, bytes && (bytes.buffer === q.into || (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)) ? [bytes.buffer as ArrayBuffer] : []);
        } catch (err) {
          // A reply that cannot be posted must not kill the agent: every thread of the process waits on it.
          reply(c, { id: q.id, error: asReplyError(err) });
        }
      },
      (err: unknown) => reply(c, { id: q.id, error: asReplyError(err) }),
    );
  });
}
serve(workerData as AgentClient);
