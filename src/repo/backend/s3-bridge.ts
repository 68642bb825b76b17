/**
 * A synchronous door to the S3 agent thread (the Backend interface is synchronous: DESIGN.md §3,
 * §5). A call posts a request and blocks on Atomics.wait until the agent's reply counter moves,
 * then takes the reply with receiveMessageOnPort (the technique of synckit). Requests may also be
 * posted without waiting (multipart parts) and collected later. One agent per process and S3
 * endpoint, whatever the bucket or prefix: each request carries its spec. The main thread starts
 * it; a copy worker reaches it through a link that came with its task (agentLinks,
 * adoptAgentLinks), and starts one of its own only when it has none. An agent costs ~0.3-0.4
 * CPU-s to start (docs/PERFORMANCE.md, session 12): with one per thread, a command with four copy
 * workers started five.
 */
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CvError } from '../../common/errors.js';
import type { AgentAttach, AgentClient, AgentReply, AgentRequest } from './s3-agent.js';
import type { S3Spec } from './s3-config.js';
import { entryUrl } from '../../common/entry-points.js';

const AGENT = entryUrl('s3-agent');

/** This thread's side of its channel to an agent, shared by every bridge to its endpoint. */
interface Channel {
  port: MessagePort;
  seq: Int32Array;
  /** Replies taken off the port for any bridge of the channel, until their waiter takes them. */
  replies: Map<number, AgentReply>;
  nextId: number;
}

const channels = new Map<string, Channel>();
const endpointKey = (spec: S3Spec) => `${spec.endpoint ?? ''}|${spec.region}|${spec.pathStyle}`;

/** A way for a copy worker to reach one of this process's agents; its port is transferred with the task. */
export interface AgentLink extends AgentClient {
  endpoint: string;
}

/**
 * A new link to each agent the main thread has started, for a task going to a copy worker (its
 * ports go in the task's transfer list). Elsewhere, or before any S3 backend is open: none.
 */
export function agentLinks(): AgentLink[] {
  if (!isMainThread) return [];
  return [...channels].map(([endpoint, ch]) => {
    const { port1, port2 } = new MessageChannel();
    const seq = new Int32Array(new SharedArrayBuffer(4));
    const attach: AgentAttach = { attach: { port: port2, seq } };
    ch.port.postMessage(attach, [port2]);
    return { endpoint, port: port1, seq };
  });
}

/** Takes the links a task brought: a link to an endpoint this thread already reaches is closed. */
export function adoptAgentLinks(links: AgentLink[] | undefined): void {
  for (const { endpoint, port, seq } of links ?? []) {
    if (channels.has(endpoint)) {
      port.close();
      continue;
    }
    port.unref();
    channels.set(endpoint, { port, seq, replies: new Map(), nextId: 1 });
  }
}

function channelFor(spec: S3Spec): Channel {
  const key = endpointKey(spec);
  let ch = channels.get(key);
  if (!ch) {
    const { port1, port2 } = new MessageChannel();
    const seq = new Int32Array(new SharedArrayBuffer(4));
    // Credentials reach the agent through its environment (a copy of this thread's), never a message.
    // The SDK's warning that releases after January 2027 need Node 22 is not the operator's concern.
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const worker = new Worker(AGENT, { workerData: { port: port2, seq }, transferList: [port2], env });
    worker.unref();
    port1.unref();
    channels.set(key, (ch = { port: port1, seq, replies: new Map(), nextId: 1 }));
  }
  return ch;
}

export class S3Bridge {
  private readonly ch: Channel;

  constructor(private readonly spec: S3Spec) {
    this.ch = channelFor(spec);
  }

  /** Posts a request; `transfer` hands its body's buffer over (the caller must not reuse it), as a GET's `into` always is. */
  post(q: Omit<AgentRequest, 'id' | 'spec'>, transfer = false): number {
    const id = this.ch.nextId++;
    const req = { ...q, id, spec: this.spec } as AgentRequest;
    this.ch.port.postMessage(req, [...(transfer && q.body ? [q.body.buffer as ArrayBuffer] : []), ...(q.into ? [q.into] : [])]);
    return id;
  }

  /** Blocks until request `id` is answered; its error is thrown as the CvError it stands for. */
  wait<T>(id: number): T {
    for (;;) {
      const seen = Atomics.load(this.ch.seq, 0);
      this.drain();
      const r = this.ch.replies.get(id);
      if (r) {
        this.ch.replies.delete(id);
        if (r.error) throw r.error.code === 'INTERNAL' ? new Error(r.error.message) : new CvError(r.error.code, r.error.message);
        return r.value as T;
      }
      Atomics.wait(this.ch.seq, 0, seen, 1000);
    }
  }

  /** True once request `id` is answered (its reply stays until wait takes it). */
  done(id: number): boolean {
    this.drain();
    return this.ch.replies.has(id);
  }

  private drain(): void {
    for (let m = receiveMessageOnPort(this.ch.port); m; m = receiveMessageOnPort(this.ch.port)) {
      const r = m.message as AgentReply;
      this.ch.replies.set(r.id, r);
    }
  }

  call<T>(q: Omit<AgentRequest, 'id' | 'spec'>, transfer = false): T {
    return this.wait<T>(this.post(q, transfer));
  }
}
