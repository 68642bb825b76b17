/**
 * The blob codec: what turns the plain bytes of a data file (a blob) or of a repository object
 * (manifest, pack index, repository config) into the bytes a repository v2 stores, and back.
 * Shared by the pack engine (src/repo/pack-*.ts, branch repo-v2-packs) and the codec itself
 * (zstd + AES-256-GCM, branch repo-v2-codec). A codec is constructed in each worker thread from
 * its serialisable spec, so no bytes and no key object ever cross threads.
 */

import type { ShuffleWidth } from './byte-shuffle.js';

/** How one stored blob was compressed (zstd-shuffleW: byte-shuffled in W-byte values, then zstd); recorded per blob in the pack index. */
export type BlobCompression = 'none' | 'zstd' | 'zstd-shuffle4' | 'zstd-shuffle8';
export const BLOB_COMPRESSIONS: readonly BlobCompression[] = ['none', 'zstd', 'zstd-shuffle4', 'zstd-shuffle8'];
/** The shuffle width of a blob's compression, or undefined when it is not shuffled. */
export const shuffleWidthOf = (c: BlobCompression): ShuffleWidth | undefined => (c === 'zstd-shuffle4' ? 4 : c === 'zstd-shuffle8' ? 8 : undefined);

export interface BlobCodec {
  readonly spec: BlobCodecSpec;
  /** Encodes one blob's plain bytes; `nonce` is set when encrypted (recorded in the pack index). `shuffle`: as in blobEncoder. */
  encode(plain: Uint8Array, shuffle?: ShuffleWidth): { bytes: Uint8Array; compression: BlobCompression; nonce?: Uint8Array };
  /**
   * Encodes one blob fed in pieces, its stored bytes going to `append` in order. Uncompressed, each
   * piece is passed on (encrypted) at once, so a writer streams blobs through a small buffer that
   * stays in cache; compressed, each piece is compressed at once into the blob's one zstd frame,
   * and held (not copied: the caller keeps them intact) until end(), which stores the blob as it
   * is when the frame is not smaller. `rawLength` is the blob's plain size: a blob below
   * COMPRESS_MIN_BYTES (zstd.ts) is stored as it is, never compressed. `shuffle`: the blob holds
   * numbers of that width, byte-shuffled before compression (byte-shuffle.ts) if a sample of its
   * first piece says it pays.
   */
  blobEncoder(append: (stored: Uint8Array) => void, rawLength: number, shuffle?: ShuffleWidth): BlobEncoder;
  /** Whether blobs are compressed: a writer then keeps each blob's pieces intact until end(). */
  readonly compresses: boolean;
  /** The plain bytes of a stored blob; throws CvError CORRUPT on an authentication failure. */
  decode(bytes: Uint8Array, compression: BlobCompression, nonce?: Uint8Array): Uint8Array;
  /**
   * decode, the plain bytes handed to `out` in order: a zstd blob in pieces of up to 256 KiB as
   * they are decompressed (a reader hashes and writes each while it is in cache, and no blob-sized
   * buffer is made), any other whole. A piece may be a reused buffer: `out` must be done with it
   * when it returns. A CORRUPT error may come after some pieces were handed over.
   */
  decodeTo(bytes: Uint8Array, compression: BlobCompression, nonce: Uint8Array | undefined, out: (plain: Uint8Array) => void): void;
  /** Manifests, pack indexes and the repository config: authenticated when encrypted. */
  sealObject(plain: Uint8Array): Uint8Array;
  openObject(bytes: Uint8Array): Uint8Array;
}

export interface BlobEncoder {
  update(plain: Uint8Array): void;
  /** Ends the blob: how it was stored, and how many stored bytes went to `append`. */
  end(): { length: number; compression: BlobCompression; nonce?: Uint8Array };
}

export interface BlobCodecSpec {
  compression: 'off' | 'fast' | 'default' | 'max';
  encryption: 'none' | 'aes-256-gcm';
  /** base64; only in memory (and in worker task payloads), never written to the repository. */
  masterKey?: string;
}
