/**
 * The readers a worker task needs for one pack's blobs: the pack's own, and one per foreign pack
 * (dedup: a blob stored in another pack of the repository), each opened on first use. A foreign
 * pack is read only if the main thread found its index (its size comes from there), only if it
 * is that size, and only within it: a hostile index cannot make a reader leave the repository,
 * read past a pack or wait for bytes that never come.
 */
import { CvError, corrupt } from '../common/errors.js';
import type { Backend, ByteRange, ObjectReader } from './backend/index.js';
import { PACK_HEADER_BYTES, packObject, type BlobRef } from './pack-format.js';

/** Foreign pack id → its size as its own index records it (absent: no index names that pack). */
export type ForeignSizes = Record<string, number>;

/** A foreign pack that is missing, or that no index names: CORRUPT for restore (as a missing pack is), 'missing' for check. */
export class MissingPack extends CvError {
  constructor(msg: string) {
    super('CORRUPT', msg);
  }
}

/** Grows the span kept for `pack` to take in `r`. */
function widen(spans: Map<string, ByteRange>, pack: string, r: ByteRange): void {
  const s = spans.get(pack);
  const from = Math.min(s?.offset ?? r.offset, r.offset);
  const to = Math.max(s ? s.offset + s.length : 0, r.offset + r.length);
  spans.set(pack, { offset: from, length: to - from });
}

export class PackReaders {
  private readonly foreign = new Map<string, ObjectReader>();

  /** Per foreign pack, where the task's blobs lie in it: the backend's read-ahead (one ranged GET on S3, not one per blob). */
  private readonly spans = new Map<string, ByteRange>();

  constructor(
    private readonly backend: Backend,
    readonly home: ObjectReader,
    private readonly sizes: ForeignSizes = {},
    blobs: BlobRef[] = [],
  ) {
    for (const b of blobs) if (b.pack !== undefined) widen(this.spans, b.pack, b);
  }

  /** The reader that holds `b`; `what` names the chunk and file in an error. */
  for(b: BlobRef, what: string): ObjectReader {
    if (b.pack === undefined) return this.home;
    let r = this.foreign.get(b.pack);
    if (!r) {
      const size = Object.hasOwn(this.sizes, b.pack) ? this.sizes[b.pack] : undefined;
      if (size === undefined) throw new MissingPack(`${what}: its blob is in pack ${b.pack}, which no pack index names`);
      const opened = this.backend.open(packObject(b.pack), this.spans.get(b.pack));
      if (!opened) throw new MissingPack(`${what}: its blob is in pack ${b.pack}, which is missing`);
      if (opened.size !== size) {
        opened.close();
        throw corrupt(`${what}: pack ${b.pack} is ${opened.size} bytes, its index says ${size}`);
      }
      this.foreign.set(b.pack, (r = opened));
    }
    if (b.offset < PACK_HEADER_BYTES || b.offset + b.length > r.size) throw corrupt(`${what}: its blob at ${b.offset} lies outside pack ${b.pack}`);
    return r;
  }

  close(): void {
    for (const r of this.foreign.values()) r.close();
    this.foreign.clear();
  }
}

/**
 * The packs of one task of many reads, each opened once: a restore batch names the same pack for
 * dozens of entries, and opening it for each (a safe open that lstats every directory, an fstat,
 * a close) was 18,000 stats and 10,000 opens and closes of a many-shape restore's 6,000 entries.
 * A pack's reader covers where every read of the task lies in it (the backend's read-ahead never
 * reads past its span); a failed open fails each read of that pack alike.
 */
export class OpenPacks {
  private readonly opened = new Map<string, { reader?: ObjectReader; err?: unknown }>();
  private readonly spans = new Map<string, ByteRange>();

  constructor(private readonly backend: Backend) {}

  /** Before the first open: one more read's span of `pack` (undefined: reads on demand). */
  cover(pack: string, span: ByteRange | undefined): void {
    if (span) widen(this.spans, pack, span);
  }

  /** The pack's reader (undefined: it is missing), opened on first use; the first open's error is thrown again. */
  open(pack: string): ObjectReader | undefined {
    let o = this.opened.get(pack);
    if (!o) {
      try {
        o = { reader: this.backend.open(packObject(pack), this.spans.get(pack)) };
      } catch (err) {
        o = { err };
      }
      this.opened.set(pack, o);
    }
    if (o.err !== undefined) throw o.err;
    return o.reader;
  }

  close(): void {
    for (const o of this.opened.values()) o.reader?.close();
    this.opened.clear();
  }
}
