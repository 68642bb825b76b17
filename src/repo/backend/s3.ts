import { CvError } from '../../common/errors.js';
import { nameParts } from './local.js';
import { S3Bridge } from './s3-bridge.js';
import type { S3Spec } from './s3-config.js';
import { S3Lock } from './s3-lock.js';
import { openS3Reader } from './s3-reader.js';
import { listenForRetries } from './s3-retries.js';
import type { Backend, ByteRange, ObjectInfo, ObjectReader, ObjectSink, RepoLock, WriteOptions } from './types.js';

/**
 * Multipart part size: 16 MiB, the object size the Ceph notes measured at 132-211 MiB/s PUT with
 * 8 in flight. A pack smaller than one part is a single create-only PUT.
 */
export const S3_PART_BYTES = 16 << 20;
/** Parts of one pack in flight while its worker keeps building it (memory: 4 x 16 MiB per worker). */
export const S3_PARTS_IN_FLIGHT = 4;
/** Multipart handles of this thread: its backends share one agent (s3-bridge.ts), which keys uploads by handle. */
let uploads = 0;
/**
 * An S3 bucket and prefix as a backend: one object per repository object, reached through a
 * helper thread (s3-bridge.ts) so the interface stays synchronous for workers and the main thread.
 */
export class S3Backend implements Backend {
  private readonly agent: S3Bridge;

  constructor(readonly spec: S3Spec) {
    listenForRetries();
    this.agent = new S3Bridge(spec);
  }

  stat(name: string): ObjectInfo | undefined {
    nameParts(name);
    return this.agent.call<ObjectInfo | undefined>({ op: 'stat', name });
  }

  list(prefix: string): ObjectInfo[] {
    if (prefix !== '') nameParts(prefix.replace(/\/$/, ''));
    return this.agent.call<ObjectInfo[]>({ op: 'list', name: prefix });
  }

  read(name: string, range?: ByteRange): Uint8Array | undefined {
    nameParts(name);
    return this.readTagged(name, range)?.bytes;
  }

  /** The object and its ETag (unquoted), for guarded replaces (locks). */
  readTagged(name: string, range?: ByteRange): { bytes: Uint8Array; etag: string } | undefined {
    return this.agent.call<{ bytes: Uint8Array; etag: string } | undefined>({ op: 'get', name, ...(range ? { range } : {}) });
  }

  open(name: string, span?: ByteRange): ObjectReader | undefined {
    nameParts(name);
    return openS3Reader(this.agent, this.spec.root, name, span, () => this.stat(name)?.size);
  }

  write(name: string, data: Uint8Array, opts: WriteOptions = {}): void {
    nameParts(name);
    const etag = this.agent.call<string | undefined>({ op: 'put', name, body: data, ...(opts.createOnly ? { createOnly: true } : {}) });
    if (etag !== undefined) return;
    // A retried create-only PUT whose first attempt landed (its reply lost to a reset) meets itself: same bytes, no conflict.
    const there = this.read(name);
    if (there === undefined || Buffer.compare(Buffer.from(there), Buffer.from(data)) !== 0) throw new CvError('CONFLICT', `repository object ${this.spec.root}/${name} already exists`);
  }

  /** One guarded PUT (If-None-Match: * or If-Match: etag); the new ETag, or undefined on 412. */
  agentPut(name: string, data: Uint8Array, guard: { createOnly?: boolean; ifMatch?: string }): string | undefined {
    nameParts(name);
    return this.agent.call<string | undefined>({ op: 'put', name, body: data, ...guard });
  }

  create(name: string): ObjectSink {
    nameParts(name);
    const upload = ++uploads;
    let chunks: Uint8Array[] = [];
    let buffered = 0;
    let size = 0;
    let parts = 0;
    const pending: number[] = [];
    const flush = () => {
      const body = Buffer.concat(chunks, buffered);
      chunks = [];
      buffered = 0;
      while (pending.length >= S3_PARTS_IN_FLIGHT) this.agent.wait(pending.shift()!);
      pending.push(this.agent.post({ op: 'part', name, upload, part: ++parts, body }, body.byteOffset === 0 && body.byteLength === body.buffer.byteLength));
    };
    const sink: ObjectSink = {
      get size() {
        return size;
      },
      append: (bytes: Uint8Array) => {
        // Copied: the caller reuses its buffer for the next blob.
        chunks.push(Buffer.from(bytes));
        buffered += bytes.byteLength;
        size += bytes.byteLength;
        if (buffered >= S3_PART_BYTES) flush();
      },
      commit: () => {
        if (parts === 0) return this.write(name, Buffer.concat(chunks, buffered), { createOnly: true });
        if (buffered > 0) flush();
        try {
          while (pending.length) this.agent.wait(pending.shift()!);
          this.agent.call({ op: 'commit', upload });
        } catch (err) {
          sink.abort();
          throw err;
        }
      },
      abort: () => {
        for (const id of pending.splice(0)) {
          try {
            this.agent.wait(id);
          } catch {
            /* the upload is dropped anyway */
          }
        }
        if (parts > 0) this.agent.call({ op: 'abort', upload });
        chunks = [];
      },
    };
    return sink;
  }

  remove(name: string): void {
    nameParts(name);
    this.agent.call({ op: 'remove', name });
  }

  /** Aborts the multipart uploads under this prefix older than `ageMs` (a killed run's packs); how many. */
  abortOrphanUploads(ageMs: number): number {
    return this.agent.call<number>({ op: 'abortOld', before: Date.now() - ageMs });
  }

  lock(holder: string, what: string, name?: string): RepoLock {
    return S3Lock.acquire(this, holder, what, name);
  }
}
