import { Sealer, randomNonce } from './aes-gcm.js';
import type { Zstd } from './zstd.js';
import type { BlobCompression, BlobEncoder } from './types.js';

/** Blobs authenticate their compression flag, so an edited index cannot make a blob decode the other way. */
export const blobAad = (compression: BlobCompression) => Buffer.from([1, compression === 'zstd' ? 1 : 0]);

/**
 * One blob's encoder (BlobCodec.blobEncoder): zstd when `zstd` is given, then AES-256-GCM under a
 * fresh nonce when `key` is. Stored bytes go to `append` as they are made, never gathered into one
 * buffer: the AES output of a whole blob copied into a result, then written, cost a pass over
 * memory per blob. Compressed, the pieces given to update() must stay intact until end().
 */
export function newBlobEncoder(zstd: Zstd | undefined, key: Buffer | undefined, append: (stored: Uint8Array) => void): BlobEncoder {
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
  return {
    update(plain) {
      held.push(plain);
      plainBytes += plain.byteLength;
      z.update(plain);
    },
    end() {
      z.end();
      const compression: BlobCompression = frameBytes < plainBytes ? 'zstd' : 'none';
      const s = sink(compression);
      for (const b of compression === 'zstd' ? frame : held) s.update(b);
      s.end();
      return stored(compression);
    },
  };
}
