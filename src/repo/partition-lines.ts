import { parseJson } from '../common/json.js';
import type { ManifestPartition } from './manifest.js';

/** Lines are packed into buffers of this size: a few large allocations rather than one per partition. */
const SLAB = 4 << 20;

/**
 * A restore point's partitions kept as the bytes of their verified lines and parsed when read
 * (issue 14): at 100,000 partitions × 2 tables the lines take ~100 MB outside the JS heap, where
 * the parsed objects took ~150 MB of heap and the garbage collector's room around them. Reading a
 * partition parses its line again; the last one read is kept, since readers (a restore's jobs)
 * ask for the tables of one partition in a row.
 */
export class PartitionLines implements Iterable<ManifestPartition> {
  private readonly slabs: Buffer[] = [];
  /** Per partition: slab, start, end. */
  private readonly at3: number[] = [];
  private used = SLAB;
  private last: { i: number; p: ManifestPartition } | undefined;

  /** Keeps a verified partition: its line as read, or (read whole) its serialisation. */
  add(p: ManifestPartition, line?: Buffer): void {
    const bytes = line ?? Buffer.from(JSON.stringify(p), 'utf8');
    if (this.used + bytes.length > SLAB) {
      this.slabs.push(Buffer.allocUnsafe(Math.max(SLAB, bytes.length)));
      this.used = 0;
    }
    const slab = this.slabs.length - 1;
    bytes.copy(this.slabs[slab]!, this.used);
    this.at3.push(slab, this.used, this.used + bytes.length);
    this.used += bytes.length;
  }

  get length(): number {
    return this.at3.length / 3;
  }

  at(i: number): ManifestPartition {
    if (this.last?.i === i) return this.last.p;
    const p = parseJson(this.text(i)) as ManifestPartition;
    this.last = { i, p };
    return p;
  }

  /** The partition's line: compact JSON, as a writer serialises it. */
  text(i: number): string {
    const a = this.at3;
    return this.slabs[a[i * 3]!]!.toString('utf8', a[i * 3 + 1], a[i * 3 + 2]);
  }

  *[Symbol.iterator](): Iterator<ManifestPartition> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
