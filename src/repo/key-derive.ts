/**
 * scrypt ahead of need. Opening or creating an encrypted repository derives a key-file key with
 * scrypt (KDF_DEFAULT: 0.3-0.5 s of one core here), and did so synchronously on the main thread
 * before a backup did anything else. `deriveAhead` runs the same derivation (same parameters) on
 * libuv's pool (crypto.scrypt) while the caller does other work; the synchronous open then takes
 * the result from here. Only when the derivation runs changes, never what it derives.
 */
import { createHash, randomBytes, scrypt, scryptSync } from 'node:crypto';
import { KEY_BYTES } from './codec/aes-gcm.js';
import type { KdfParams } from './keys.js';

export const kdfMemory = (k: KdfParams) => 128 * k.N * k.r * (k.p + 1);
const options = (k: KdfParams) => ({ N: k.N, r: k.r, p: k.p, maxmem: kdfMemory(k) + 1024 * 1024 });
/** The cache is keyed by a hash of the password, so it never holds the password itself. */
const slot = (password: string, salt: Buffer, k: KdfParams) => createHash('sha256').update(password).update('\0').update(salt).update(`\0${k.N}:${k.r}:${k.p}`).digest('hex');

const derived = new Map<string, Buffer>();
/**
 * Derived keys kept per process, the oldest dropped first: a command needs one per key file it
 * opens; a long-lived process (the server) must not grow with every password ever tried.
 */
const KEEP_DERIVED = 16;
function keep(key: string, out: Buffer): Buffer {
  derived.set(key, out);
  if (derived.size > KEEP_DERIVED) derived.delete(derived.keys().next().value!);
  return out;
}
/**
 * Each derivation under way, by slot: a second request (backup-all opens both databases at once,
 * each asking ahead) shares the first's instead of running scrypt again. Before, one encrypted
 * backup-all of two databases into a new directory ran scrypt three times (two new salts on the
 * pool, then the one whose derivation had not finished again on the main thread).
 */
const running = new Map<string, Promise<void>>();
/** Salts of new keys whose key-file key is already derived (or being derived), by password and parameters. */
const newSalts = new Map<string, Buffer>();
const saltSlot = (password: string, k: KdfParams) => slot(password, Buffer.alloc(0), k);

/**
 * The key-file key for this password, salt and parameters: derived ahead or earlier in this
 * process, else now (and kept: `check` of a directory of two databases opened its config three
 * times, each with its own synchronous scrypt on the main thread).
 */
export function wrappingKey(password: string, salt: Buffer, k: KdfParams): Buffer {
  const key = slot(password, salt, k);
  return derived.get(key) ?? keep(key, scryptSync(Buffer.from(password, 'utf8'), salt, KEY_BYTES, options(k)));
}

/** The salt of a new key file: the one derived ahead for this password (once), else a fresh one. */
export function newKeySalt(password: string, k: KdfParams): Buffer {
  const s = newSalts.get(saltSlot(password, k));
  newSalts.delete(saltSlot(password, k));
  return s ?? randomBytes(32);
}

/**
 * Derives on libuv's pool: for an existing key file (its salt and parameters), or for the key file
 * about to be created (`salt` absent: the salt a pending new key already has, else a fresh one).
 * Never fails: whatever goes wrong is left for the synchronous path to report (a wrong password is
 * still found wrong there).
 */
export function deriveAhead(password: string, k: KdfParams, salt?: Buffer): Promise<void> {
  let s = salt;
  if (!s) {
    s = newSalts.get(saltSlot(password, k)) ?? randomBytes(32);
    newSalts.set(saltSlot(password, k), s);
  }
  const key = slot(password, s, k);
  let run = running.get(key);
  if (run) return run;
  if (derived.has(key)) return Promise.resolve();
  run = new Promise((resolve) => {
    scrypt(Buffer.from(password, 'utf8'), s, KEY_BYTES, options(k), (err, out) => {
      if (!err) keep(key, out);
      running.delete(key);
      resolve();
    });
  });
  running.set(key, run);
  return run;
}
