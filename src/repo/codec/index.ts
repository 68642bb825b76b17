import { usage } from '../../common/errors.js';
import { identityCodec } from './identity.js';
import type { BlobCodec, BlobCodecSpec } from './types.js';

export type { BlobCodec, BlobCodecSpec, BlobCompression } from './types.js';

/** The codec a spec describes. This build stores blobs plain: compression and encryption arrive with the codec branch. */
export function codecFor(spec: BlobCodecSpec): BlobCodec {
  if (spec.compression === 'off' && spec.encryption === 'none') return identityCodec(spec);
  throw usage(`compression ${spec.compression} / encryption ${spec.encryption} is not available in this build`);
}

/** The spec of a plain repository (what a backup into a new directory writes today). */
export const PLAIN_CODEC: BlobCodecSpec = { compression: 'off', encryption: 'none' };
