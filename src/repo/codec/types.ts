export interface BlobCodec {            // constructed in each worker from a serialisable BlobCodecSpec
  readonly spec: BlobCodecSpec;
  encode(plain: Uint8Array): { bytes: Uint8Array; compression: 'none' | 'zstd'; nonce?: Uint8Array };
  decode(bytes: Uint8Array, compression: 'none' | 'zstd', nonce?: Uint8Array): Uint8Array; // throws CvError CORRUPT on auth failure
  sealObject(plain: Uint8Array): Uint8Array;   // manifests, index, repo config: authenticated when encrypted
  openObject(bytes: Uint8Array): Uint8Array;
}
export interface BlobCodecSpec { compression: 'off' | 'fast' | 'default' | 'max'; encryption: 'none' | 'aes-256-gcm'; masterKey?: string /* base64, only in memory, never written */ }
// export function codecFor(spec: BlobCodecSpec): BlobCodec;  // in src/repo/codec/index.ts
