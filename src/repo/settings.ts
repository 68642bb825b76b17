import path from 'node:path';
import { createHmac, hkdfSync } from 'node:crypto';
import { corrupt, notFound, usage } from '../common/errors.js';
import { dbNameOf } from '../store/index.js';
import { dirBackend, subBackend } from './backup-dir.js';
import { codecFor, type BlobCodec, type BlobCodecSpec } from './codec/index.js';
import { INIT_LEFTOVERS, configKind, initRepo, isRepository, openRepo, type PasswordSource, type RepoConfig } from './config.js';
import { KDF_DEFAULT, deriveFirstKeyAhead, keyIds, type KdfParams } from './keys.js';
import { deriveAhead } from './key-derive.js';
import { readRegularFile } from './safe-fs.js';
import { sealJson, unsealJson } from './sealed-json.js';

/**
 * The settings of a backup directory (docs/FORMAT.md, "One backup directory, one config"), local or
 * an S3 URL: `<backupDir>/config` and `<backupDir>/keys/` are shared by every database repository in it.
 * A directory without a config holds repositories written before configs existed (v1 mirrors and
 * plain v2 repositories, each describing itself in its repo.json).
 */
export interface RepoAccess {
  /** Read at most once, and only when the directory turns out to be encrypted (or is initialised). */
  password?: PasswordSource;
  /** Overrides the config's compression for the blobs this run writes (a setting of writes only). */
  compression?: BlobCodecSpec['compression'];
  /** scrypt parameters of the first key when a backup initialises the directory (tests use small ones). */
  kdf?: KdfParams;
}

export interface DirSettings {
  config: RepoConfig;
  /** What every repository in the directory is written with (master key included when encrypted). */
  spec: BlobCodecSpec;
}

/** The password, read at most once however often it is asked for. */
export function once(source: PasswordSource | undefined): PasswordSource {
  let read = false;
  let value: string | undefined;
  return () => {
    if (!read) [value, read] = [source?.(), true];
    return value;
  };
}

/**
 * A directory that does not exist, is empty, or holds only what a killed init left (key files, no
 * config): a backup may make it a repository of its choice.
 */
export function isNewDirectory(dir: string): boolean {
  return dirBackend(dir).list('').every((o) => INIT_LEFTOVERS.has(o.name));
}

/**
 * The directory's settings; undefined for a directory without a config that this call does not
 * initialise. `init` (a backup creating a v2 repository) makes a new or empty directory a v2
 * repository: encrypted when a password is given, plain otherwise.
 */
export function openSettings(backupDir: string, access: RepoAccess, init: boolean): DirSettings | undefined {
  const password = once(access.password);
  if (isRepository(backupDir)) {
    const r = openRepo(backupDir, password);
    return { config: r.config, spec: r.spec };
  }
  const fresh = isNewDirectory(backupDir);
  // Key files beside repositories and no config: the config was removed. Read as a pre-config
  // directory, a backup would write plaintext next to encrypted data; refuse instead.
  if (!fresh && keyIds(dirBackend(backupDir)).length) throw corrupt(`${backupDir} has key files and repositories but no config: it was removed or damaged`);
  if (!init || !fresh) return undefined;
  const encryption = password() ? 'aes-256-gcm' : 'none';
  const r = initRepo(backupDir, { encryption, compression: access.compression ?? 'default', password, ...(access.kdf ? { kdf: access.kdf } : {}) });
  return { config: r.config, spec: r.spec };
}

/**
 * Starts, on libuv's pool, the key derivation that openSettings(backupDir, access, init) will run:
 * the first key file's of an encrypted directory, or a new key's when `init` makes a new directory
 * encrypted; undefined when there is none. Reads the password only where openSettings will. The
 * caller overlaps it with other work.
 */
export function deriveSettingsKeyAhead(backupDir: string, access: RepoAccess, init: boolean): Promise<void> | undefined {
  const kind = configKind(backupDir);
  if (kind !== 'none') {
    const password = kind === 'encrypted' ? access.password?.() : undefined;
    return password ? deriveFirstKeyAhead(dirBackend(backupDir), password) : undefined;
  }
  const password = init && isNewDirectory(backupDir) ? access.password?.() : undefined;
  return password ? deriveAhead(password, access.kdf ?? KDF_DEFAULT) : undefined;
}

/** The codec spec a run writes with: the directory's, with this run's compression if it names one. */
export function runSpec(base: BlobCodecSpec, access: RepoAccess): BlobCodecSpec {
  return access.compression ? { ...base, compression: access.compression } : base;
}

/** Names a directory-level object holds; a plain repository named like one would collide with it. */
const RESERVED = new Set(['config', 'keys', 'keys.lock']);

/**
 * The name of a database's repository directory. Encrypted: 32 hex digits of HMAC-SHA256 of the
 * dbPath under a key derived from the master key (HKDF-SHA256, info `chunkvault name key v1`), so
 * the directory does not name the database; the dbPath is only inside its sealed repo.json.
 */
export function repoDirName(settings: DirSettings | undefined, dbPath: string): string {
  if (settings?.spec.masterKey) {
    const key = Buffer.from(hkdfSync('sha256', Buffer.from(settings.spec.masterKey, 'base64'), Buffer.alloc(0), 'chunkvault name key v1', 32));
    return createHmac('sha256', key).update(dbPath, 'utf8').digest('hex').slice(0, 32);
  }
  const name = dbNameOf(dbPath);
  if (settings && RESERVED.has(name)) throw usage(`a database named ${name} cannot be backed up into a directory with a config: the name is reserved for the directory's own files`);
  return name;
}

/** What a repository's repo.json says: its dbPath and, for a v2 repository (format 3), its codec settings. */
export interface RepoJson {
  format: 2 | 3;
  dbPath: string;
  codec?: BlobCodecSpec;
}

/**
 * Reads `<dir>/repo.json`: through the directory's codec (a sealed object when encrypted), then
 * sealed JSON; anything else is CORRUPT. In a directory with a config, only format 3 (v2) is valid.
 */
export function readRepoJson(dir: string, codec: BlobCodec | undefined): RepoJson {
  const file = path.join(dir, 'repo.json');
  const buf = readRegularFile(dir, ['repo.json']);
  if (buf === undefined) throw notFound(`repository description ${file} does not exist`);
  return parseRepoJson(buf, file, codec);
}

/** repo.json's bytes (from a file or an object) checked as readRepoJson describes; `file` names it in errors. */
export function parseRepoJson(buf: Uint8Array, file: string, codec: BlobCodec | undefined): RepoJson {
  const plain = Buffer.from(codec ? codec.openObject(buf) : buf);
  const meta = unsealJson(plain.toString('utf8'), `repository description ${file}`);
  if ((meta.format !== 2 && meta.format !== 3) || typeof meta.dbPath !== 'string') throw corrupt(`${file} is not a chunkvault repository description`);
  if (meta.format === 2) {
    if (codec) throw corrupt(`${file} describes a v1 repository inside a directory with a config`);
    return { format: 2, dbPath: meta.dbPath };
  }
  const { compression, encryption } = meta;
  if (!['off', 'fast', 'default', 'max'].includes(compression as string) || !['none', 'aes-256-gcm'].includes(encryption as string)) throw corrupt(`${file} names an unknown compression or encryption`);
  if (codec && encryption !== codec.spec.encryption) throw corrupt(`${file} says encryption ${String(encryption)}, the directory's config ${codec.spec.encryption}`);
  return { format: 3, dbPath: meta.dbPath, codec: { compression, encryption } as BlobCodecSpec };
}

/** The bytes of a v2 repo.json: sealed JSON, then the codec's object sealing (encrypted when the repository is). */
export function repoJsonBytes(dbPath: string, codec: BlobCodec): Uint8Array {
  const { compression, encryption } = codec.spec;
  return codec.sealObject(Buffer.from(sealJson({ format: 3, dbPath, created: new Date().toISOString(), compression, encryption })));
}

/**
 * Each database repository in a backup directory (local or S3; settings: its open config, if it
 * has one), by dbPath: every real subdirectory (or sub-prefix) with a repo.json. With a config,
 * each repo.json is opened with the directory's codec and must sit under the name its dbPath gives.
 */
export function repositoriesIn(dir: string, settings: DirSettings | undefined): { dbPath: string; dir: string; codec?: BlobCodecSpec }[] {
  const codec = settings && codecFor(settings.spec);
  const out: { dbPath: string; dir: string; codec?: BlobCodecSpec }[] = [];
  for (const o of dirBackend(dir).list('')) {
    if (o.irregular !== 'directory') continue;
    const sub = subBackend(dir, o.name);
    const buf = sub.read('repo.json');
    if (buf === undefined) continue;
    const { dbPath, codec: own } = parseRepoJson(buf, `${sub.spec.root}/repo.json`, codec);
    if (settings && repoDirName(settings, dbPath) !== o.name) throw corrupt(`${sub.spec.root} holds the repository of another database (${settings.spec.masterKey ? 'its name is not the keyed hash of its dbPath' : dbPath})`);
    out.push({ dbPath, dir: o.name, ...(own ? { codec: own } : {}) });
  }
  return out.sort((a, b) => (a.dbPath < b.dbPath ? -1 : a.dbPath > b.dbPath ? 1 : 0));
}

/** The databases backed up in backupDir (a directory or an S3 URL), by dbPath. */
export function listRepositoriesIn(backupDir: string, access: RepoAccess = {}): string[] {
  return repositoriesIn(backupDir, openSettings(backupDir, access, false)).map((r) => r.dbPath);
}
