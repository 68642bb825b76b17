/**
 * A synchronous door to the S3 agent thread (the Backend interface is synchronous: DESIGN.md §3,
 * §5). A call posts a request and blocks on Atomics.wait until the agent's reply counter moves,
 * then takes the reply with receiveMessageOnPort (the technique of synckit). Requests may also be
 * posted without waiting (multipart parts) and collected later. One agent per thread and spec.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CvError } from '../../common/errors.js';
import type { AgentReply, AgentRequest } from './s3-agent.js';
import type { S3Spec } from './s3-config.js';

const AGENT = new URL('./s3-agent.js', import.meta.url);

export class S3Bridge {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly seq = new Int32Array(new SharedArrayBuffer(4));
  private readonly replies = new Map<number, AgentReply>();
  private nextId = 1;

  constructor(spec: S3Spec) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // Credentials reach the agent through its environment (a copy of this thread's), never a message.
    // The SDK's warning that releases after January 2027 need Node 22 is not the operator's concern.
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    this.worker = new Worker(AGENT, { workerData: { port: port2, seq: this.seq, spec }, transferList: [port2], env });
    this.worker.unref();
    this.port.unref();
  }

  /** Posts a request; `transfer` hands its body's buffer over (the caller must not reuse it), as a GET's `into` always is. */
  post(q: Omit<AgentRequest, 'id'>, transfer = false): number {
    const id = this.nextId++;
    const req = { ...q, id } as AgentRequest;
    this.port.postMessage(req, [...(transfer && q.body ? [q.body.buffer as ArrayBuffer] : []), ...(q.into ? [q.into] : [])]);
    return id;
  }

  /** Blocks until request `id` is answered; its error is thrown as the CvError it stands for. */
  wait<T>(id: number): T {
    for (;;) {
      const seen = Atomics.load(this.seq, 0);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const r = m.message as AgentReply;
        this.replies.set(r.id, r);
      }
      const r = this.replies.get(id);
      if (r) {
        this.replies.delete(id);
        if (r.error) throw r.error.code === 'INTERNAL' ? new Error(r.error.message) : new CvError(r.error.code, r.error.message);
        return r.value as T;
      }
      Atomics.wait(this.seq, 0, seen, 1000);
    }
  }

  /** True once request `id` is answered (its reply stays until wait takes it). */
  done(id: number): boolean {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const r = m.message as AgentReply;
      this.replies.set(r.id, r);
    }
    return this.replies.has(id);
  }

  call<T>(q: Omit<AgentRequest, 'id'>, transfer = false): T {
    return this.wait<T>(this.post(q, transfer));
  }
}
