import { randomBytes } from 'node:crypto';

/**
 * What a restore point's partitions named so far, to refuse a partition or chunk listed twice, in
 * little memory. The two Sets of strings these replace held 100,000 entries each per scan of a
 * point at scale, ~30 MB that outlived the scan's young objects and waited for a full collection;
 * check scans a point three or four times, and that garbage was most of its peak RSS (issue 14).
 */

/** Chunk ids (UUIDs, already checked by checkChunkId) as their 128 bits in an open-addressing table of typed arrays. */
export class SeenChunkIds {
  private words = new Uint32Array(4 * 1024);
  private used = new Uint8Array(1024);
  private count = 0;
  // A random seed, so that a hostile point cannot choose ids that all land in one slot.
  private readonly seed = randomBytes(4).readUInt32LE(0);

  /** Adds an id; false when it was already there. */
  add(id: string): boolean {
    const w = [id.slice(0, 8), id.slice(9, 13) + id.slice(14, 18), id.slice(19, 23) + id.slice(24, 28), id.slice(28, 36)].map((h) => parseInt(h, 16) >>> 0);
    if (this.count * 2 >= this.used.length) this.grow();
    const slot = this.find(w);
    if (this.used[slot]) return false;
    this.put(slot, w);
    return true;
  }

  /** The slot holding `w`, or the empty slot where it goes. */
  private find(w: number[]): number {
    const mask = this.used.length - 1;
    let h = this.seed;
    for (const x of w) h = Math.imul(h ^ x, 0x9e3779b1) ^ (h >>> 15);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      if (!this.used[i]) return i;
      const b = i * 4;
      if (this.words[b] === w[0] && this.words[b + 1] === w[1] && this.words[b + 2] === w[2] && this.words[b + 3] === w[3]) return i;
    }
  }

  private put(slot: number, w: number[]): void {
    this.used[slot] = 1;
    this.words.set(w, slot * 4);
    this.count++;
  }

  private grow(): void {
    const [words, used] = [this.words, this.used];
    this.words = new Uint32Array(words.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.count = 0;
    for (let i = 0; i < used.length; i++) {
      if (!used[i]) continue;
      const w = Array.from(words.subarray(i * 4, i * 4 + 4));
      this.put(this.find(w), w);
    }
  }
}

/**
 * Partition paths: a backup writes them sorted, so while each is greater than the last none can
 * repeat and they are only kept in an array; from the first out of order, they go into a Set.
 */
export class SeenPaths {
  private sorted: string[] = [];
  private set: Set<string> | undefined;

  /** Adds a path; false when it was already there. */
  add(p: string): boolean {
    if (!this.set) {
      const last = this.sorted[this.sorted.length - 1];
      if (last === undefined || p > last) return this.sorted.push(p) > 0;
      this.set = new Set(this.sorted);
      this.sorted = [];
    }
    if (this.set.has(p)) return false;
    this.set.add(p);
    return true;
  }
}
