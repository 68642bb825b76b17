import { randomBytes } from 'node:crypto';
import { CvError, conflict, corrupt, fromSystemError, keyError, notFound } from '../common/errors.js';
import { makeDirs } from '../common/fsio.js';
import type { Backend } from './backend/index.js';
import { dirBackend } from './backup-dir.js';
import { COMPRESSIONS, ENCRYPTIONS, codecFor, isSealedObject, newMasterKey, type BlobCodecSpec } from './codec/index.js';
import { addKeyFile, keyIds, openMasterKey, type KdfParams } from './keys.js';
import { parseUntrusted, sealJson, unsealJson } from './sealed-json.js';

/**
 * The repository's settings, `<dir>/config` (docs/FORMAT.md, "Repository config"): written once by
 * `repo init`, after the first key; a repository exists exactly when its config does. `dir` is a
 * local directory or an S3 URL: config and keys are objects of its backend (backup-dir.ts).
 * Encrypted, it is a sealed object under the master key (nothing about the repository is readable
 * without a password); unencrypted, it is sealed JSON (a checksum of its content).
 */
export interface RepoConfig {
  /** The repository format: 2 (v1 is the per-database mirror, which has no config). */
  version: 2;
  /** 32 random hex digits. */
  id: string;
  created: string;
  encryption: BlobCodecSpec['encryption'];
  compression: BlobCodecSpec['compression'];
}

/** An open repository: its settings and the codec spec its workers build their codecs from. */
export interface OpenedRepo {
  /** The absolute directory, or the S3 URL. */
  dir: string;
  /** Where config and keys/ are. */
  backend: Backend;
  config: RepoConfig;
  spec: BlobCodecSpec;
  /** The key file the password opened (encrypted repositories). */
  keyId?: string;
}

/** Where the password comes from: called only when the repository needs one, at most once. */
export type PasswordSource = () => string | undefined;

const CONFIG = 'config';
/** What a killed `repo init` can leave behind: keys written, config not yet. */
export const INIT_LEFTOVERS: ReadonlySet<string> = new Set(['keys', 'keys.lock']);

function checkConfig(v: unknown, dir: string): RepoConfig {
  const c = v as Partial<RepoConfig> | null;
  const ok =
    c !== null && typeof c === 'object' && c.version === 2 && typeof c.id === 'string' && /^[0-9a-f]{32}$/.test(c.id) && typeof c.created === 'string' &&
    ENCRYPTIONS.includes(c.encryption!) && COMPRESSIONS.includes(c.compression!);
  if (!ok) throw corrupt(`the config of repository ${dir} is malformed`);
  return c as RepoConfig;
}

/** What a directory's config says before it is opened: none (not a repository), plain, or encrypted (opening needs the password and a key derivation). */
export function configKind(dir: string): 'none' | 'plain' | 'encrypted' {
  // A GET, not a HEAD: S3 answers a HEAD without a body, so refused credentials would lose their error code.
  const bytes = dirBackend(dir).read(CONFIG);
  return bytes === undefined ? 'none' : isSealedObject(bytes) ? 'encrypted' : 'plain';
}

export function isRepository(dir: string): boolean {
  return configKind(dir) !== 'none';
}

/** Opens a repository: reads its config, asking for the password only when it is encrypted. */
export function openRepo(dir: string, password: PasswordSource): OpenedRepo {
  const backend = dirBackend(dir);
  const root = backend.spec.root;
  const bytes = backend.read(CONFIG);
  if (!bytes) throw notFound(backend.list('').length ? `${root} is not a repository (no config; create one with repo init)` : `repository ${root} does not exist`);
  const base = { dir: root, backend };
  if (!isSealedObject(bytes)) {
    const config = checkConfig(unsealJson(Buffer.from(bytes).toString('utf8'), `the config of repository ${root}`), root);
    // A plain config beside key files was swapped in for an encrypted one: never write plaintext there.
    if (config.encryption !== 'none' || keyIds(backend).length > 0) throw corrupt(`repository ${root} has key files but an unencrypted config: it was replaced`);
    return { ...base, config, spec: { compression: config.compression, encryption: 'none' } };
  }
  const { masterKey, keyId } = openMasterKey(backend, password());
  const plain = codecFor({ compression: 'off', encryption: 'aes-256-gcm', masterKey }).openObject(bytes);
  const config = checkConfig(parseUntrusted(Buffer.from(plain).toString('utf8'), `the config of repository ${root}`), root);
  if (config.encryption !== 'aes-256-gcm') throw corrupt(`the config of repository ${root} is encrypted but says encryption ${config.encryption}`);
  return { ...base, config, spec: { compression: config.compression, encryption: config.encryption, masterKey }, keyId };
}

export interface InitOptions {
  encryption: BlobCodecSpec['encryption'];
  compression: BlobCodecSpec['compression'];
  password: PasswordSource;
  /** scrypt parameters of the first key (tests use small ones); default KDF_DEFAULT. */
  kdf?: KdfParams;
}

/** Refuses a directory (or prefix) that holds anything but what a killed init leaves; clears those leftovers. */
function checkEmpty(b: Backend): void {
  const names = b.list('').map((o) => o.name);
  if (names.includes(CONFIG)) throw conflict(`${b.spec.root} is already a repository`);
  const other = names.filter((n) => !INIT_LEFTOVERS.has(n));
  if (other.length) throw conflict(`${b.spec.root} is not empty (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}): a repository starts in a new or empty directory`);
  for (const o of b.list('keys/')) b.remove(o.name);
  if (b.stat('keys.lock')) b.remove('keys.lock');
}

/**
 * Creates a repository in a new or empty directory (or S3 prefix): the first key (encrypted), then
 * the config, each durable before the next, the config create-only (of two racing inits exactly
 * one wins; the loser takes its key back). Nothing is created when the password is missing.
 */
export function initRepo(dir: string, o: InitOptions): OpenedRepo {
  const backend = dirBackend(dir);
  const root = backend.spec.root;
  const password = o.encryption === 'none' ? undefined : o.password();
  if (o.encryption !== 'none' && !password) throw keyError(`an encrypted repository needs a password (CHUNKVAULT_PASSWORD, --password-file or --password-command); nothing was created`);
  checkEmpty(backend);
  if (backend.spec.kind === 'local') {
    try {
      // The directory itself is the operator's path (it may be a link); an S3 prefix needs no creating.
      makeDirs(root);
    } catch (err) {
      throw fromSystemError(err, `cannot create repository ${root}`);
    }
  }
  const config: RepoConfig = { version: 2, id: randomBytes(16).toString('hex'), created: new Date().toISOString(), encryption: o.encryption, compression: o.compression };
  if (o.encryption === 'none') {
    writeConfig(backend, sealJson(config));
    return { dir: root, backend, config, spec: { compression: o.compression, encryption: 'none' } };
  }
  const masterKey = newMasterKey();
  const keyId = addKeyFile(backend, masterKey, password!, o.kdf);
  const spec: BlobCodecSpec = { compression: o.compression, encryption: o.encryption, masterKey };
  try {
    writeConfig(backend, codecFor(spec).sealObject(Buffer.from(JSON.stringify(config))));
  } catch (err) {
    // Our key wraps a master key no config uses: left there, it would open nothing but be tried first.
    if (err instanceof CvError && err.code === 'CONFLICT') backend.remove(`keys/${keyId}`);
    throw err;
  }
  return { dir: root, backend, config, spec, keyId };
}

function writeConfig(b: Backend, bytes: Uint8Array | string): void {
  try {
    b.write(CONFIG, typeof bytes === 'string' ? Buffer.from(bytes) : bytes, { createOnly: true });
  } catch (err) {
    if (err instanceof CvError && err.code === 'CONFLICT') throw conflict(`${b.spec.root} is already a repository (another init created it first)`);
    throw err;
  }
}
