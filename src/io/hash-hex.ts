import xxhash from '@node-rs/xxhash';

/** A fresh streaming XXH3-64 hasher (the streaming class is ~10x faster than the one-shot call). */
export const newXxh3 = () => xxhash.xxh3.Xxh3.withSeed(0n);

/** Checksums are written as 16 lowercase hex digits everywhere (manifests, results, messages). */
export const toHex = (h: bigint): string => h.toString(16).padStart(16, '0');
