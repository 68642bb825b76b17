import { randomBytes } from 'node:crypto';

/**
 * What a restore point's partitions named so far, to refuse a partition or chunk listed twice, in
 * little memory. The two Sets of strings these replace held 100,000 entries each per scan of a
 * point at scale, ~30 MB that outlived the scan's young objects and waited for a full collection;
 * check scans a point three or four times, and that garbage was most of its peak RSS (issue 14).
 */

/**
 * Chunk ids (UUIDs, already checked by checkChunkId) as their 128 bits in an open-addressing table
 * of typed arrays. An id's words are read from its hex digits into one scratch array and the table
 * is rehashed in place of arrays per entry: the slices, parseInt and arrays of each add, and an
 * array per entry at each growth, were 10% of `list` at 100,000 partitions (issue 14).
 */
export class SeenChunkIds {
  private words = new Uint32Array(4 * 1024);
  private used = new Uint8Array(1024);
  private count = 0;
  private readonly w = new Uint32Array(4);
  // A random seed, so that a hostile point cannot choose ids that all land in one slot.
  private readonly seed = randomBytes(4).readUInt32LE(0);

  /** Adds an id; false when it was already there. */
  add(id: string): boolean {
    // 32 hex digits, 8 to a word, skipping the dashes at 8, 13, 18 and 23.
    for (let i = 0, k = 0; k < 4; k++) {
      let x = 0;
      for (let d = 0; d < 8; d++, i++) {
        if (id.charCodeAt(i) === 0x2d) i++;
        x = (x << 4) | hexValue(id.charCodeAt(i));
      }
      this.w[k] = x;
    }
    if (this.count * 2 >= this.used.length) this.grow();
    const slot = this.find(this.w, 0);
    if (this.used[slot]) return false;
    this.put(slot, this.w, 0);
    return true;
  }

  /** The slot holding the id at `w[at..at+4]`, or the empty slot where it goes. */
  private find(w: Uint32Array, at: number): number {
    const mask = this.used.length - 1;
    let h = this.seed;
    for (let k = at; k < at + 4; k++) h = Math.imul(h ^ w[k]!, 0x9e3779b1) ^ (h >>> 15);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      if (!this.used[i]) return i;
      const b = i * 4;
      if (this.words[b] === w[at] && this.words[b + 1] === w[at + 1] && this.words[b + 2] === w[at + 2] && this.words[b + 3] === w[at + 3]) return i;
    }
  }

  private put(slot: number, w: Uint32Array, at: number): void {
    this.used[slot] = 1;
    for (let k = 0; k < 4; k++) this.words[slot * 4 + k] = w[at + k]!;
    this.count++;
  }

  private grow(): void {
    const [words, used] = [this.words, this.used];
    this.words = new Uint32Array(words.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.count = 0;
    for (let i = 0; i < used.length; i++) if (used[i]) this.put(this.find(words, i * 4), words, i * 4);
  }
}

/** A lowercase hex digit's value (checkChunkId admitted only those). */
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : c - 0x57);

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
