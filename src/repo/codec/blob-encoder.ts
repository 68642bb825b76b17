import { Sealer, randomNonce } from './aes-gcm.js';
import type { BlockShuffler, ShuffleWidth } from './byte-shuffle.js';
import type { Zstd } from './zstd.js';
import type { BlobCompression, BlobEncoder } from './types.js';

const AAD_CODE: Record<BlobCompression, number> = { none: 0, zstd: 1, 'zstd-shuffle4': 2, 'zstd-shuffle8': 3 };

/** A blob that may be byte-shuffled: its width, the codec's shuffler, and the test of its first piece. */
export interface ShuffleChoice {
  width: ShuffleWidth;
  shuffler: BlockShuffler;
  pays(first: Uint8Array): boolean;
}
/** Blobs authenticate their compression, so an edited index cannot make a blob decode another way. */
export const blobAad = (compression: BlobCompression) => Buffer.from([1, AAD_CODE[compression]]);

/**
 * One blob's encoder (BlobCodec.blobEncoder): zstd when `zstd` is given, then AES-256-GCM under a
 * fresh nonce when `key` is. Stored bytes go to `append` as they are made, never gathered into one
 * buffer: the AES output of a whole blob copied into a result, then written, cost a pass over
 * memory per blob. Compressed, the pieces given to update() must stay intact until end().
 * `shuffle`: the plain bytes are byte-shuffled (byte-shuffle.ts) before zstd sees them, if the
 * first piece says it pays.
 */
export function newBlobEncoder(zstd: Zstd | undefined, key: Buffer | undefined, append: (stored: Uint8Array) => void, shuffle?: ShuffleChoice): BlobEncoder {
  let length = 0;
  const out = (b: Uint8Array) => {
    length += b.byteLength;
    append(b);
  };
  const nonce = key ? randomNonce() : undefined;
  const stored = (compression: BlobCompression) => ({ length, compression, ...(nonce ? { nonce } : {}) });
  const sink = (compression: BlobCompression) => (key ? new Sealer(key, nonce!, blobAad(compression), out) : { update: out, end: () => {} });
  if (!zstd) {
    const s = sink('none');
    return {
      update: (plain) => s.update(plain),
      end: () => (s.end(), stored('none')),
    };
  }
  // Each piece is compressed as it comes (in cache, just read); the frame is held until end()
  // decides: incompressible data is stored as it is, never larger than the file, no decode on restore.
  const held: Uint8Array[] = [];
  const frame: Buffer[] = [];
  let plainBytes = 0;
  let frameBytes = 0;
  const z = zstd.frame((b) => {
    frame.push(b);
    frameBytes += b.byteLength;
  });
  let shuffler: BlockShuffler | undefined;
  return {
    update(plain) {
      // zstd copies its input into its own window, so the shuffler's one reused block can feed it.
      if (shuffle && plainBytes === 0 && plain.byteLength && shuffle.pays(plain)) shuffler = shuffle.shuffler.begin(shuffle.width, (b) => z.update(b));
      held.push(plain);
      plainBytes += plain.byteLength;
      if (shuffler) shuffler.push(plain);
      else z.update(plain);
    },
    end() {
      shuffler?.flush();
      z.end();
      const compression: BlobCompression = frameBytes >= plainBytes ? 'none' : shuffler ? `zstd-shuffle${shuffle!.width}` : 'zstd';
      const s = sink(compression);
      for (const b of compression === 'none' ? held : frame) s.update(b);
      s.end();
      return stored(compression);
    },
  };
}
