import { corrupt } from '../../common/errors.js';
import type { S3Bridge } from './s3-bridge.js';
import type { ByteRange, ObjectReader } from './types.js';

/**
 * Range reads read ahead while they stay sequential. Without a span the first GET fetches at
 * least 1 MiB and each next window doubles up to 8 MiB (random readers: check, prune). With a
 * span (restore and check know every blob of the task) the first GET fetches up to 8 MiB of it
 * and carries the object's size (Content-Range), so no HEAD is needed; from then on the next
 * window of the span is always in flight on the agent while the worker decodes and writes the
 * current one, and nothing past the span is read.
 */
export const S3_READ_AHEAD = { first: 1 << 20, max: 8 << 20 } as const;

type Got = { bytes: Uint8Array; etag: string; size?: number } | undefined;
interface Window {
  at: number;
  bytes: Uint8Array;
}

/**
 * Window buffers between GETs: each spanned GET lends one to the agent, which streams the body
 * into it and hands it back with the reply (transferred both ways, never copied); a window that is
 * done with returns its buffer here for this thread's next GET. Per GET this saves a fresh 8 MiB
 * array (page faults), its zeroing and the SDK's copy of the body into it.
 */
const spareBuffers: ArrayBuffer[] = [];
const lend = (length: number) => (length <= S3_READ_AHEAD.max ? { into: spareBuffers.pop() ?? new ArrayBuffer(S3_READ_AHEAD.max) } : {});
const giveBack = (w: { bytes: Uint8Array } | undefined): undefined => {
  const b = w?.bytes.buffer;
  if (b instanceof ArrayBuffer && b.byteLength === S3_READ_AHEAD.max) spareBuffers.push(b);
  return undefined;
};

/** An S3 object open for range reads; undefined when it does not exist. */
export function openS3Reader(agent: S3Bridge, where: string, name: string, span: ByteRange | undefined, stat: () => number | undefined): ObjectReader | undefined {
  let window: Window | undefined;
  let size: number;
  if (span && span.length > 0) {
    const length = Math.min(span.length, S3_READ_AHEAD.max);
    const first = agent.call<Got>({ op: 'get', name, range: { offset: span.offset, length }, short: true, ...lend(length) });
    const known = first?.size ?? stat();
    if (!first || known === undefined) return giveBack(first);
    size = known;
    if (first.bytes.byteLength > 0) window = { at: span.offset, bytes: first.bytes };
    else giveBack(first);
  } else {
    const known = stat();
    if (known === undefined) return undefined;
    size = known;
  }
  const end = span ? Math.min(size, span.offset + span.length) : 0;
  let next = window ? window.at + window.bytes.byteLength : 0;
  let pending: { at: number; length: number; id: number } | undefined;
  let ahead: number = S3_READ_AHEAD.first;

  const prefetch = () => {
    if (!span || pending || next >= end) return;
    const length = Math.min(S3_READ_AHEAD.max, end - next);
    pending = { at: next, length, id: agent.post({ op: 'get', name, range: { offset: next, length }, ...lend(length) }) };
    next += length;
  };
  const drop = () => {
    const p = pending;
    pending = undefined;
    if (p) giveBack(agent.wait<Got>(p.id));
  };
  const fetch = (at: number, want: number): Window => {
    if (pending && at >= pending.at && at < pending.at + pending.length) {
      const p = pending;
      pending = undefined;
      const got = agent.wait<Got>(p.id);
      if (!got) throw corrupt(`${where}/${name} vanished while being read`);
      return { at: p.at, bytes: got.bytes };
    }
    drop();
    // Out of the span's order: on demand, doubling while sequential (no span) or up to 8 MiB.
    if (!span) ahead = window && at === window.at + window.bytes.byteLength ? Math.min(S3_READ_AHEAD.max, ahead * 2) : S3_READ_AHEAD.first;
    const length = Math.min(size - at, Math.max(want, span ? S3_READ_AHEAD.max : ahead));
    const got = agent.call<Got>({ op: 'get', name, range: { offset: at, length }, ...lend(length) });
    if (!got) throw corrupt(`${where}/${name} vanished while being read`);
    next = at + length;
    return { at, bytes: got.bytes };
  };
  prefetch();
  return {
    size,
    readAt: (dst: Uint8Array, offset: number, length: number): void => {
      if (offset < 0 || length < 0 || offset + length > size) throw corrupt(`${where}/${name} is ${size} bytes; bytes ${offset}..${offset + length} are past its end`);
      for (let done = 0; done < length; ) {
        const at = offset + done;
        if (!window || at < window.at || at >= window.at + window.bytes.byteLength) {
          const old = window;
          window = fetch(at, length - done);
          giveBack(old);
          prefetch();
        }
        const n = Math.min(length - done, window.at + window.bytes.byteLength - at);
        dst.set(window.bytes.subarray(at - window.at, at - window.at + n), done);
        done += n;
      }
    },
    close: () => {
      giveBack(window);
      window = undefined;
      try {
        drop();
      } catch {
        /* a read-ahead nobody needs */
      }
    },
  };
}
