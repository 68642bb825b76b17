/**
 * A copy worker's confirmation of a dedup candidate (engine/backup-dedup.ts): the candidate is
 * compared with its original's source file block by block, exactly, and hashed; only when every
 * byte is equal and its xxh3 is the one the original's blobs were indexed with does the candidate
 * reference those blobs (foreign blobs, docs/FORMAT.md). No hash is trusted alone: a crafted xxh3
 * collision in a header must not make one table restore another's data.
 */
import fs from 'node:fs';
import { CvError, corrupt, fromSystemError } from '../common/errors.js';
import { newXxh3, toHex } from '../io/hash-hex.js';
import type { WorkerContext } from '../io/index.js';
import type { BlobRef, PackedFile } from './pack-format.js';

/** The original a candidate may reference: its source file, its plain xxh3, its blobs (each naming its pack). */
export interface SameAs {
  src: string;
  xxh3: string;
  blobs: BlobRef[];
}

/** The first bytes of a file a pack task returns: the framed header the catalog check reads. */
export const HEAD_BYTES = 64;
let other: Buffer | undefined;

/** A source file opened without following a link, and without waiting on a FIFO (its fstat then shows it is no file); packFile's open too. */
export const openSource = (file: string): number => {
  try {
    return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw corrupt(`refusing to read symbolic link ${file}`);
    throw fromSystemError(err, `cannot open ${file}`);
  }
};

/** The candidate as the original's blobs (and its first bytes) when confirmed; undefined: write it as usual. */
export function reuseSame(f: { src: string; name: string; size: number; same?: SameAs | undefined }, ctx: WorkerContext): (PackedFile & { head: Uint8Array }) | undefined {
  if (!f.same) return undefined;
  const head = confirmSame(f.src, f.size, f.same, ctx);
  // Progress once confirmed: a candidate that differs is then read again by packFile, which counts it.
  if (head) ctx.progress(f.size);
  return head && { name: f.name, size: f.size, xxh3: f.same.xxh3, blobs: f.same.blobs, head };
}

function confirmSame(src: string, size: number, same: SameAs, ctx: WorkerContext): Uint8Array | undefined {
  const a = openSource(src);
  try {
    const b = openSource(same.src);
    try {
      const [sa, sb] = [fs.fstatSync(a), fs.fstatSync(b)];
      if (!sa.isFile() || !sb.isFile() || sa.size !== size || sb.size !== size) return undefined;
      const mine = ctx.buf;
      const theirs = (other ??= Buffer.allocUnsafe(mine.length));
      const h = newXxh3();
      let head: Uint8Array | undefined;
      for (let pos = 0; pos < size; ) {
        const want = Math.min(mine.length, size - pos);
        if (!ctx.acquire(want)) throw new CvError('CANCELLED', 'copy cancelled');
        const n = fs.readSync(a, mine, 0, want, pos);
        if (n === 0 || fs.readSync(b, theirs, 0, n, pos) !== n || !mine.subarray(0, n).equals(theirs.subarray(0, n))) return undefined;
        head ??= Uint8Array.from(mine.subarray(0, HEAD_BYTES));
        h.update(mine.subarray(0, n));
        pos += n;
      }
      return toHex(h.digest()) === same.xxh3 ? (head ?? new Uint8Array(0)) : undefined;
    } finally {
      fs.closeSync(b);
    }
  } finally {
    fs.closeSync(a);
  }
}
