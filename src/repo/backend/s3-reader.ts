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
  slot: number;
}

/**
 * A reader's two window buffers (the one being read, the one being filled), shared with the agent,
 * which streams each GET's body into one; kept for this thread's next reader. Per GET this saves
 * a fresh 8 MiB array (page faults), its zeroing, a copy of the body into it and its transfer.
 */
const freeSlots: SharedArrayBuffer[][] = [];

/** An S3 object open for range reads; undefined when it does not exist. */
export function openS3Reader(agent: S3Bridge, where: string, name: string, span: ByteRange | undefined, stat: () => number | undefined): ObjectReader | undefined {
  let window: Window | undefined;
  let size: number;
  const slots = freeSlots.pop() ?? [new SharedArrayBuffer(S3_READ_AHEAD.max), new SharedArrayBuffer(S3_READ_AHEAD.max)];
  // Back to the pool once no GET can still be filling them (a reader left unclosed just drops them).
  let kept = true;
  const release = (): undefined => {
    if (kept) freeSlots.push(slots);
    kept = false;
    return undefined;
  };
  // The slot a new GET fills: never the window being read.
  const spare = () => (window?.slot === 0 ? 1 : 0);
  const into = (length: number) => (length <= S3_READ_AHEAD.max ? { into: slots[spare()] } : {});
  if (span && span.length > 0) {
    const length = Math.min(span.length, S3_READ_AHEAD.max);
    const first = agent.call<Got>({ op: 'get', name, range: { offset: span.offset, length }, short: true, ...into(length) });
    const known = first?.size ?? stat();
    if (!first || known === undefined) return release();
    size = known;
    if (first.bytes.byteLength > 0) window = { at: span.offset, bytes: first.bytes, slot: 0 };
  } else {
    const known = stat();
    if (known === undefined) return release();
    size = known;
  }
  const end = span ? Math.min(size, span.offset + span.length) : 0;
  let next = window ? window.at + window.bytes.byteLength : 0;
  let pending: { at: number; length: number; id: number; slot: number } | undefined;
  let ahead: number = S3_READ_AHEAD.first;

  const prefetch = () => {
    if (!span || pending || next >= end) return;
    const length = Math.min(S3_READ_AHEAD.max, end - next);
    pending = { at: next, length, slot: spare(), id: agent.post({ op: 'get', name, range: { offset: next, length }, ...into(length) }) };
    next += length;
  };
  const drop = () => {
    const p = pending;
    pending = undefined;
    if (p) agent.wait<Got>(p.id);
  };
  const fetch = (at: number, want: number): Window => {
    if (pending && at >= pending.at && at < pending.at + pending.length) {
      const p = pending;
      pending = undefined;
      const got = agent.wait<Got>(p.id);
      if (!got) throw corrupt(`${where}/${name} vanished while being read`);
      return { at: p.at, bytes: got.bytes, slot: p.slot };
    }
    drop();
    // Out of the span's order: on demand, doubling while sequential (no span) or up to 8 MiB.
    if (!span) ahead = window && at === window.at + window.bytes.byteLength ? Math.min(S3_READ_AHEAD.max, ahead * 2) : S3_READ_AHEAD.first;
    const length = Math.min(size - at, Math.max(want, span ? S3_READ_AHEAD.max : ahead));
    const slot = spare();
    const got = agent.call<Got>({ op: 'get', name, range: { offset: at, length }, ...into(length) });
    if (!got) throw corrupt(`${where}/${name} vanished while being read`);
    next = at + length;
    return { at, bytes: got.bytes, slot };
  };
  prefetch();
  return {
    size,
    readAt: (dst: Uint8Array, offset: number, length: number): void => {
      if (offset < 0 || length < 0 || offset + length > size) throw corrupt(`${where}/${name} is ${size} bytes; bytes ${offset}..${offset + length} are past its end`);
      for (let done = 0; done < length; ) {
        const at = offset + done;
        if (!window || at < window.at || at >= window.at + window.bytes.byteLength) {
          window = fetch(at, length - done);
          prefetch();
        }
        const n = Math.min(length - done, window.at + window.bytes.byteLength - at);
        dst.set(window.bytes.subarray(at - window.at, at - window.at + n), done);
        done += n;
      }
    },
    close: () => {
      window = undefined;
      try {
        drop();
      } catch {
        /* a read-ahead nobody needs */
      }
      release();
    },
  };
}
