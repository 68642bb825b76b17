import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync, type CipherGCM } from 'node:crypto';
import { corrupt } from '../../common/errors.js';

/**
 * AES-256-GCM with a random 96-bit nonce per message and a 128-bit tag (NIST SP 800-38D). Random
 * nonces keep one key safe for 2^32 messages; a repository's blobs and objects each get their own
 * key, derived from the master key with HKDF-SHA256, so a blob can never be opened as an object (or
 * the reverse) and neither budget is shared.
 */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface RepoKeys {
  /** Encrypts blobs (file contents in packs). */
  blob: Buffer;
  /** Encrypts objects (manifests, index, config). */
  object: Buffer;
}

/** The per-purpose keys of a 32-byte master key (HKDF-SHA256, no salt, info names the purpose). */
export function deriveKeys(master: Uint8Array): RepoKeys {
  if (master.length !== KEY_BYTES) throw new Error(`internal: a master key has ${KEY_BYTES} bytes, not ${master.length}`);
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, KEY_BYTES));
  return { blob: derive('chunkvault blob key v1'), object: derive('chunkvault object key v1') };
}

export function randomNonce(): Buffer {
  return randomFillSync(Buffer.allocUnsafe(NONCE_BYTES));
}

/**
 * Slice of plaintext per cipher.update: each slice's output is handed on (copied into seal()'s
 * result, or appended to a pack) while it is still in cache. One update of the whole blob plus Buffer.concat to append the tag ran at a third
 * of the speed (4.6 MB blob: 560-690 MB/s against 1,400-2,300 MB/s in 1 MiB slices, same run).
 */
const SEAL_SLICE = 1 << 20;

/**
 * AES-256-GCM encryption fed piece by piece: each update's ciphertext goes to `append` at once
 * (the pack writer streams a blob to its pack as it reads the file, without buffering it), and
 * end() appends the tag. The output is ciphertext || tag, as seal() returns it.
 */
export class Sealer {
  private readonly c: CipherGCM;
  constructor(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    private readonly append: (b: Uint8Array) => void,
  ) {
    this.c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    this.c.setAAD(aad);
  }

  update(plain: Uint8Array): void {
    for (let i = 0; i < plain.length; i += SEAL_SLICE) this.append(this.c.update(plain.subarray(i, i + SEAL_SLICE)));
  }

  end(): void {
    const tail = this.c.final();
    if (tail.length) throw new Error('internal: AES-GCM output is not the length of its input');
    this.append(this.c.getAuthTag());
  }
}

/** ciphertext || tag of `plain` under key and nonce, authenticating `aad` too. */
export function seal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, aad: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plain.length + TAG_BYTES);
  let at = 0;
  const s = new Sealer(key, nonce, aad, (b) => (at += Buffer.from(b.buffer, b.byteOffset, b.byteLength).copy(out, at)));
  s.update(plain);
  s.end();
  if (at !== out.length) throw new Error('internal: AES-GCM output is not the length of its input');
  return out;
}

/**
 * The plaintext of ciphertext || tag, or CORRUPT (naming `what`) when the tag does not verify:
 * a flipped bit anywhere (ciphertext, tag, nonce, aad) or the wrong key. Nothing unauthenticated
 * is ever returned.
 */
export function open(key: Uint8Array, nonce: Uint8Array | undefined, sealed: Uint8Array, aad: Uint8Array, what: string): Buffer {
  if (!nonce || nonce.length !== NONCE_BYTES) throw corrupt(`${what} has no valid nonce`);
  if (sealed.length < TAG_BYTES) throw corrupt(`${what} is too short to be encrypted data`);
  const ctLen = sealed.length - TAG_BYTES;
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(ctLen));
    const head = d.update(sealed.subarray(0, ctLen));
    const tail = d.final();
    return tail.length ? Buffer.concat([head, tail]) : head;
  } catch {
    throw corrupt(`${what} failed authentication: it was damaged or tampered with, or belongs to another repository`);
  }
}
