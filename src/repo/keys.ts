import os from 'node:os';
import { createHash } from 'node:crypto';
import { conflict, corrupt, keyError, notFound, usage } from '../common/errors.js';
import { parseJson } from '../common/json.js';
import type { Backend } from './backend/index.js';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, randomNonce, seal } from './codec/aes-gcm.js';
import { deriveAhead, kdfMemory, newKeySalt, wrappingKey } from './key-derive.js';

/**
 * Key files, as restic's (doc/design.rst, "Keys, Encryption and MAC"): the repository's random
 * 32-byte master key, wrapped by a key derived with scrypt from a password, one file per password
 * under `keys/<id>` of the backup directory's backend (a local file or an S3 object: every function
 * here takes the backend, so both share one code path). A key file is plain JSON (docs/FORMAT.md, "Key files"):
 *   {format, created, hostname, username, kdf: "scrypt", N, r, p, salt, nonce, data}
 * where data = AES-256-GCM(scrypt(password, salt, N, r, p), nonce, masterKey) with every other
 * field as associated data, so no parameter can be edited without the password failing. `<id>` is
 * the SHA-256 of the file's bytes (a damaged file no longer matches its name).
 */
export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/**
 * scrypt N=2^16, r=8, p=1: 64 MiB and about 0.3-0.5 s on this machine (restic calibrates to 0.5 s).
 * CHUNKVAULT_TESTONLY_WEAKEN_KDF=1 makes new keys with N=2^10 instead, as borg's
 * BORG_TESTONLY_WEAKEN_KDF does: the test suite runs the CLI hundreds of times on encrypted
 * repositories, and each run spent its 0.3-0.5 s of a core on scrypt. Never set it in production: a
 * weakened key file falls to a password guesser 64 times faster. The parameters are recorded in the
 * key file, so a weakened key opens with or without the variable.
 */
export const KDF_DEFAULT: Readonly<KdfParams> = process.env.CHUNKVAULT_TESTONLY_WEAKEN_KDF === '1' ? { N: 2 ** 10, r: 8, p: 1 } : { N: 2 ** 16, r: 8, p: 1 };
/** What a reader accepts: a hostile key file must not make opening take minutes or gigabytes. */
const KDF_LIMIT = { N: 2 ** 20, r: 32, p: 16, memory: 1024 * 1024 * 1024 };

export interface KeyInfo {
  id: string;
  created: string;
  hostname: string;
  username: string;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
}

interface KeyFile extends Omit<KeyInfo, 'id'> {
  format: 1;
  salt: string;
  nonce: string;
  data: string;
}

const KEY_NAME_RE = /^keys\/([0-9a-f]{64})$/;
const MAX_KEY_FILE = 64 * 1024;
const keyObject = (id: string) => `keys/${id}`;

function checkKdf(k: KdfParams, what: string): void {
  const ok = [k.N, k.r, k.p].every((v) => Number.isSafeInteger(v) && v >= 1) && (k.N & (k.N - 1)) === 0 && k.N >= 2;
  if (!ok || k.N > KDF_LIMIT.N || k.r > KDF_LIMIT.r || k.p > KDF_LIMIT.p || kdfMemory(k) > KDF_LIMIT.memory) throw corrupt(`${what} has scrypt parameters out of range`);
}

/** The associated data of a key file: every field but the wrapped key, in a fixed order. */
function keyAad(f: Omit<KeyFile, 'nonce' | 'data'>): Buffer {
  return Buffer.from(JSON.stringify([f.format, f.created, f.hostname, f.username, f.kdf, f.N, f.r, f.p, f.salt]));
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length <= 1024;

/** A key file's parsed fields, or CORRUPT naming it. */
function parseKeyFile(bytes: Buffer, id: string): KeyFile {
  const what = `key file keys/${id}`;
  if (bytes.length > MAX_KEY_FILE) throw corrupt(`${what} is too large`);
  if (createHash('sha256').update(bytes).digest('hex') !== id) throw corrupt(`${what} does not match its name: it was damaged or edited`);
  let v: Record<string, unknown>;
  try {
    v = parseJson(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw corrupt(`${what} is not valid JSON`);
  }
  const fields = ['created', 'hostname', 'username', 'salt', 'nonce', 'data'] as const;
  if (!v || typeof v !== 'object' || v.format !== 1 || v.kdf !== 'scrypt' || !fields.every((f) => isStr(v[f]))) throw corrupt(`${what} is not a key file of format 1`);
  const f = v as unknown as KeyFile;
  checkKdf(f, what);
  return f;
}

/** Ids of the objects under keys/ (names that are not 64 hex digits, e.g. temp files, are not keys). */
export function keyIds(b: Backend): string[] {
  return b
    .list('keys/')
    .map((o) => KEY_NAME_RE.exec(o.name)?.[1])
    .filter((id): id is string => id !== undefined)
    .sort();
}

function readKeyFile(b: Backend, id: string): KeyFile {
  const bytes = b.read(keyObject(id));
  if (!bytes) throw notFound(`no key ${id} in ${b.spec.root}`);
  return parseKeyFile(Buffer.from(bytes), id);
}

/** Starts deriving the key of the first key file (the one openMasterKey tries first) on libuv's pool; never fails. */
export function deriveFirstKeyAhead(b: Backend, password: string): Promise<void> | undefined {
  try {
    const id = keyIds(b)[0];
    if (id === undefined) return undefined;
    const f = readKeyFile(b, id);
    return deriveAhead(password, f, Buffer.from(f.salt, 'base64'));
  } catch {
    return undefined; // a damaged key file is reported by the open itself
  }
}

/** What `key list` shows: no salt, nonce or wrapped key (not secret, but of no use to read). */
export function listKeys(b: Backend): KeyInfo[] {
  return keyIds(b).map((id) => {
    const f = readKeyFile(b, id);
    return { id, created: f.created, hostname: f.hostname, username: f.username, kdf: f.kdf, N: f.N, r: f.r, p: f.p };
  });
}

/**
 * Wraps the master key under a new password and writes it as a new key object, create-only
 * (its name is the hash of bytes with a random salt: a clash is a bug, never a replace); returns its id.
 */
export function addKeyFile(b: Backend, masterKey: string, password: string, kdf: KdfParams = KDF_DEFAULT): string {
  if (password === '') throw usage('a key needs a non-empty password');
  const master = Buffer.from(masterKey, 'base64');
  if (master.length !== KEY_BYTES) throw new Error('internal: a master key has 32 bytes');
  checkKdf(kdf, 'the new key');
  const user = os.userInfo({ encoding: 'utf8' }).username;
  const head = { format: 1 as const, created: new Date().toISOString(), hostname: os.hostname(), username: user, kdf: 'scrypt' as const, ...kdf, salt: newKeySalt(password, kdf).toString('base64') };
  const nonce = randomNonce();
  const data = seal(wrappingKey(password, Buffer.from(head.salt, 'base64'), kdf), nonce, master, keyAad(head));
  const bytes = Buffer.from(JSON.stringify({ ...head, nonce: nonce.toString('base64'), data: data.toString('base64') }, null, 1) + '\n');
  const id = createHash('sha256').update(bytes).digest('hex');
  b.write(keyObject(id), bytes, { createOnly: true, private: true });
  return id;
}

export interface OpenedKey {
  /** base64, in memory only. */
  masterKey: string;
  /** The key file the password opened. */
  keyId: string;
}

/**
 * The master key, from the first key file the password opens. KEY (exit 11) when none does;
 * CORRUPT when there is no key file that could have been tried (all missing or damaged).
 */
export function openMasterKey(b: Backend, password: string | undefined): OpenedKey {
  const dir = b.spec.root;
  if (password === undefined || password === '') throw keyError(`repository ${dir} is encrypted: give its password (CHUNKVAULT_PASSWORD, --password-file or --password-command)`);
  const ids = keyIds(b);
  const damaged: string[] = [];
  for (const id of ids) {
    let f: KeyFile;
    try {
      f = readKeyFile(b, id);
    } catch (err) {
      damaged.push(`${id.slice(0, 8)}: ${(err as Error).message}`);
      continue;
    }
    const nonce = Buffer.from(f.nonce, 'base64');
    const data = Buffer.from(f.data, 'base64');
    if (nonce.length !== NONCE_BYTES || data.length !== KEY_BYTES + TAG_BYTES) {
      damaged.push(`${id.slice(0, 8)}: wrapped key of the wrong size`);
      continue;
    }
    try {
      const master = open(wrappingKey(password, Buffer.from(f.salt, 'base64'), f), nonce, data, keyAad(f), 'key');
      return { masterKey: master.toString('base64'), keyId: id };
    } catch {
      /* the wrong password for this key: try the next */
    }
  }
  if (damaged.length === ids.length) throw corrupt(`repository ${dir} has no usable key file${damaged.length ? ` (${damaged.join('; ')})` : ''}`);
  throw keyError(`wrong password: it opens none of the ${ids.length - damaged.length} key(s) of ${dir}`);
}

/** The one id that `prefix` (at least 4 hex digits) names; NOT_FOUND or USAGE otherwise. */
export function resolveKeyId(b: Backend, prefix: string): string {
  const dir = b.spec.root;
  if (!/^[0-9a-f]{4,64}$/.test(prefix)) throw usage(`a key id is 4 to 64 lowercase hex digits, got "${prefix}"`);
  const hits = keyIds(b).filter((id) => id.startsWith(prefix));
  if (hits.length === 0) throw notFound(`no key ${prefix} in ${dir}`);
  if (hits.length > 1) throw usage(`key id ${prefix} is ambiguous: ${hits.map((h) => h.slice(0, 12)).join(', ')}`);
  return hits[0]!;
}

/**
 * Removes a key file. Refuses (CONFLICT) the key in use (`current`, the one the password opened)
 * and the last key, so a repository can never lose the only way into it.
 */
export function removeKeyFile(b: Backend, id: string, current: string): void {
  const dir = b.spec.root;
  withKeysLock(b, 'key remove', () => {
    const ids = keyIds(b);
    if (!ids.includes(id)) throw notFound(`no key ${id} in ${dir}`);
    if (ids.length === 1) throw conflict(`refusing to remove the last key of ${dir}: the repository could never be opened again`);
    if (id === current) throw conflict(`refusing to remove the key in use (${id.slice(0, 12)}): open the repository with another key's password to remove it, or use key passwd`);
    // Durable (the local backend fsyncs the directory): once `key remove` (or passwd) returns, the old password opens nothing, even after a crash.
    b.remove(keyObject(id));
  });
}

/**
 * Serialises changes of keys/ (so two removals cannot each leave the other's key as the last):
 * the backend's create-only lock under `keys.lock`. A second key command fails fast (LOCKED,
 * exit 5) naming the holder; a dead holder's lock is taken over.
 */
export function withKeysLock<T>(b: Backend, holder: string, fn: () => T): T {
  const lock = b.lock(`${holder} (pid ${process.pid})`, `the keys of ${b.spec.root}`, 'keys.lock');
  try {
    return fn();
  } finally {
    lock.release();
  }
}
