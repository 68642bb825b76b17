import zlib from 'node:zlib';
import { parseJson } from '../common/json.js';
import type { ManifestPartition } from './manifest.js';

/** Lines are packed into slabs of this size, each compressed once full. */
const SLAB = 1 << 20;

/**
 * While a point's lines add up to no more than this, each partition is parsed once and kept: a
 * restore goes through the partitions several times (planning, progress totals, its jobs), and a
 * many-shape migrate (4,000 partitions, ~1.5 MB of lines) spent 0.3 s of its main thread parsing
 * the same lines again. The 100,000-partition points this class exists for are far above it.
 */
const KEEP_PARSED_BYTES = 8 << 20;

/**
 * A restore point's partitions kept as the bytes of their verified lines, compressed a 1 MiB slab
 * at a time, and parsed when read (issue 14): at 100,000 partitions × 2 tables the lines are
 * ~100 MB, their objects ~150 MB of heap plus the garbage collector's room around them. Readers go
 * through the partitions in order (a restore's jobs, a backup writing the next point), so the
 * last slab inflated and the last partition parsed are kept.
 */
export class PartitionLines implements Iterable<ManifestPartition> {
  /** Full slabs, deflated; the one being filled is `open`. */
  private readonly packed: Buffer[] = [];
  private open = Buffer.allocUnsafe(SLAB);
  private used = 0;
  /** Per partition: slab, start, end. */
  private readonly at3: number[] = [];
  private inflated: { slab: number; bytes: Buffer } | undefined;
  private last: { i: number; p: ManifestPartition } | undefined;
  /** Parsed partitions, kept while the lines are small (KEEP_PARSED_BYTES); readers must not change them. */
  private parsed: (ManifestPartition | undefined)[] | undefined = [];
  private lineBytes = 0;

  /**
   * Keeps a verified partition: its line as read, or (read whole) its serialisation. While the
   * lines are small the object itself is kept too, so the first reader does not parse it again.
   */
  add(p: ManifestPartition, line?: Buffer): void {
    const bytes = line ?? Buffer.from(JSON.stringify(p), 'utf8');
    if ((this.lineBytes += bytes.length) > KEEP_PARSED_BYTES) this.parsed = undefined;
    else this.parsed![this.length] = p;
    this.keep(bytes);
  }

  /** Keeps a partition's verified line alone (a summary scan made no object of it): parsed when first read. */
  addLine(line: Buffer): void {
    this.lineBytes += line.length;
    this.keep(line);
  }

  private keep(bytes: Buffer): void {
    if (this.used + bytes.length > this.open.length) this.seal(Math.max(SLAB, bytes.length));
    this.open.set(bytes, this.used);
    this.at3.push(this.packed.length, this.used, this.used + bytes.length);
    this.used += bytes.length;
  }

  private seal(next: number): void {
    if (this.used) this.packed.push(zlib.deflateRawSync(this.open.subarray(0, this.used), { level: 1 }));
    // The deflated copy is the slab now: its buffer is filled again. A fresh 1 MiB buffer per slab
    // page-faulted in each time: ~0.25 s of copying 97 MB of lines in (100,000 x 2, this VM).
    if (next > this.open.length) this.open = Buffer.allocUnsafe(next);
    this.used = 0;
  }

  get length(): number {
    return this.at3.length / 3;
  }

  at(i: number): ManifestPartition {
    if (this.parsed) return (this.parsed[i] ??= parseJson(this.text(i)) as ManifestPartition);
    if (this.last?.i === i) return this.last.p;
    const p = parseJson(this.text(i)) as ManifestPartition;
    this.last = { i, p };
    return p;
  }

  /** The partition's line: compact JSON, as a writer serialises it. */
  text(i: number): string {
    const a = this.at3;
    return this.slab(a[i * 3]!).toString('utf8', a[i * 3 + 1], a[i * 3 + 2]);
  }

  private slab(n: number): Buffer {
    if (n === this.packed.length) return this.open;
    if (this.inflated?.slab !== n) this.inflated = { slab: n, bytes: zlib.inflateRawSync(this.packed[n]!) };
    return this.inflated.bytes;
  }

  *[Symbol.iterator](): Iterator<ManifestPartition> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
