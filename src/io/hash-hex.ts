import { PieceHash } from '../common/piece-hash.js';

/** A fresh XXH3-64 hasher (common/piece-hash.ts: small single pieces hashed in one call). */
export const newXxh3 = () => new PieceHash();

/** Checksums are written as 16 lowercase hex digits everywhere (manifests, results, messages). */
export const toHex = (h: bigint): string => h.toString(16).padStart(16, '0');
