import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { conflict, corrupt, fromSystemError, keyError, notFound, usage } from '../common/errors.js';
import { isS3Url } from './backend/index.js';
import { writeFileAtomic } from '../common/durable.js';
import { makeDirs } from '../common/fsio.js';
import { COMPRESSIONS, ENCRYPTIONS, codecFor, isSealedObject, newMasterKey, type BlobCodecSpec } from './codec/index.js';
import { addKeyFile, keyIds, openMasterKey, type KdfParams } from './keys.js';
import { entryKind, readRegularFile, removeEntry } from './safe-fs.js';
import { parseUntrusted, sealJson, unsealJson } from './sealed-json.js';

/**
 * The repository's settings, `<dir>/config` (docs/FORMAT.md, "Repository config"): written once by
 * `repo init`, after the first key; a repository exists exactly when its config does.
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
  dir: string;
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

export function isRepository(dir: string): boolean {
  return fs.existsSync(dir) && entryKind(dir, [CONFIG]) !== undefined;
}

/** A repository whose config is sealed: opening it needs the password (and a key derivation). */
export function isEncryptedRepo(dir: string): boolean {
  const bytes = isRepository(dir) ? readRegularFile(dir, [CONFIG]) : undefined;
  return bytes !== undefined && isSealedObject(bytes);
}

/** Opens a repository: reads its config, asking for the password only when it is encrypted. */
export function openRepo(dir: string, password: PasswordSource): OpenedRepo {
  if (isS3Url(dir)) throw usage(`repo init and key commands do not take S3 repositories (${dir}): an S3 repository is created by its first backup, unencrypted (keys are local files); repo info does`);
  const bytes = readRegularFile(dir, [CONFIG]);
  if (!bytes) throw notFound(fs.existsSync(dir) ? `${dir} is not a repository (no config; create one with repo init)` : `repository ${dir} does not exist`);
  if (!isSealedObject(bytes)) {
    const config = checkConfig(unsealJson(bytes.toString('utf8'), `the config of repository ${dir}`), dir);
    // A plain config beside key files was swapped in for an encrypted one: never write plaintext there.
    if (config.encryption !== 'none' || keyIds(dir).length > 0) throw corrupt(`repository ${dir} has key files but an unencrypted config: it was replaced`);
    return { dir, config, spec: { compression: config.compression, encryption: 'none' } };
  }
  const { masterKey, keyId } = openMasterKey(dir, password());
  const plain = codecFor({ compression: 'off', encryption: 'aes-256-gcm', masterKey }).openObject(bytes);
  const config = checkConfig(parseUntrusted(Buffer.from(plain).toString('utf8'), `the config of repository ${dir}`), dir);
  if (config.encryption !== 'aes-256-gcm') throw corrupt(`the config of repository ${dir} is encrypted but says encryption ${config.encryption}`);
  return { dir, config, spec: { compression: config.compression, encryption: config.encryption, masterKey }, keyId };
}

export interface InitOptions {
  encryption: BlobCodecSpec['encryption'];
  compression: BlobCodecSpec['compression'];
  password: PasswordSource;
  /** scrypt parameters of the first key (tests use small ones); default KDF_DEFAULT. */
  kdf?: KdfParams;
}

/** Refuses a directory that holds anything but what a killed init leaves; clears those leftovers. */
function checkEmpty(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (isRepository(dir)) throw conflict(`${dir} is already a repository`);
  let names: string[];
  try {
    // The directory itself is the operator's path (it may be a link); only what is inside is untrusted.
    names = fs.readdirSync(dir);
  } catch (err) {
    throw fromSystemError(err, `cannot read ${dir}`);
  }
  const other = names.filter((n) => !INIT_LEFTOVERS.has(n));
  if (other.length) throw conflict(`${dir} is not empty (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}): a repository starts in a new or empty directory`);
  for (const n of names) removeEntry(dir, [n]);
}

/**
 * Creates a repository in a new or empty directory: the first key (encrypted), then the config,
 * each durable before the next. Nothing is created when the password is missing.
 */
export function initRepo(dir: string, o: InitOptions): OpenedRepo {
  if (isS3Url(dir)) throw usage(`repo init and key commands do not take S3 repositories (${dir}): an S3 repository is created by its first backup, unencrypted (keys are local files); repo info does`);
  const abs = path.resolve(dir);
  const password = o.encryption === 'none' ? undefined : o.password();
  if (o.encryption !== 'none' && !password) throw keyError(`an encrypted repository needs a password (CHUNKVAULT_PASSWORD, --password-file or --password-command); nothing was created`);
  checkEmpty(abs);
  try {
    makeDirs(abs);
  } catch (err) {
    throw fromSystemError(err, `cannot create repository ${abs}`);
  }
  const config: RepoConfig = { version: 2, id: randomBytes(16).toString('hex'), created: new Date().toISOString(), encryption: o.encryption, compression: o.compression };
  if (o.encryption === 'none') {
    writeFileAtomic(path.join(abs, CONFIG), sealJson(config));
    return { dir: abs, config, spec: { compression: o.compression, encryption: 'none' } };
  }
  const masterKey = newMasterKey();
  const keyId = addKeyFile(abs, masterKey, password!, o.kdf);
  const spec: BlobCodecSpec = { compression: o.compression, encryption: o.encryption, masterKey };
  writeFileAtomic(path.join(abs, CONFIG), codecFor(spec).sealObject(Buffer.from(JSON.stringify(config))));
  return { dir: abs, config, spec, keyId };
}
