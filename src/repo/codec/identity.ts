import { corrupt } from '../../common/errors.js';
import type { BlobCodec, BlobCodecSpec, BlobCompression } from './types.js';

/**
 * The codec of a repository with compression off and no encryption: bytes are stored as they
 * are. A blob recorded with any other compression, or with a nonce, is refused as CORRUPT: this
 * codec cannot have written it, so the index that says so is damaged or hostile.
 */
export function identityCodec(spec: BlobCodecSpec): BlobCodec {
  return {
    spec,
    encode: (plain: Uint8Array) => ({ bytes: plain, compression: 'none' }),
    decode(bytes: Uint8Array, compression: BlobCompression, nonce?: Uint8Array): Uint8Array {
      if (compression !== 'none' || nonce !== undefined) throw corrupt(`a blob is recorded as ${compression}${nonce ? ' and encrypted' : ''}, but the repository stores blobs plain`);
      return bytes;
    },
    sealObject: (plain: Uint8Array) => plain,
    openObject: (bytes: Uint8Array) => bytes,
  };
}
