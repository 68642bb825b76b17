import { Sealer, randomNonce } from './aes-gcm.js';
import type { Zstd } from './zstd.js';
import type { BlobCompression, BlobEncoder } from './types.js';

/** Blobs authenticate their compression flag, so an edited index cannot make a blob decode the other way. */
export const blobAad = (compression: BlobCompression) => Buffer.from([1, compression === 'zstd' ? 1 : 0]);

/**
 * One blob's encoder (BlobCodec.blobEncoder): zstd when `zstd` is given, then AES-256-GCM under a
 * fresh nonce when `key` is. Stored bytes go to `append` as they are made, never gathered into one
 * buffer: the AES output of a whole blob copied into a result, then written, cost a pass over
 * memory per blob.
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
  const held: Uint8Array[] = [];
  return {
    update: (plain) => void held.push(plain),
    end() {
      const plain = held.length === 1 ? held[0]! : Buffer.concat(held);
      const z = zstd.compress(plain);
      // Incompressible data is stored as it is: never larger than the file, and no decode on restore.
      const compression: BlobCompression = z.length < plain.length ? 'zstd' : 'none';
      const s = sink(compression);
      s.update(compression === 'zstd' ? z : plain);
      s.end();
      return stored(compression);
    },
  };
}
