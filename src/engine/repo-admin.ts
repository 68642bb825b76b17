import { usage } from '../common/errors.js';
import { isS3Url } from '../repo/backend/index.js';
import { ZSTD_LEVELS, type BlobCodecSpec } from '../repo/codec/index.js';
import { initRepo, isRepository, openRepo, type OpenedRepo, type PasswordSource } from '../repo/config.js';
import { once, repositoriesIn } from '../repo/settings.js';
import { addKeyFile, keyIds, listKeys, removeKeyFile, resolveKeyId, withKeysLock, type KdfParams } from '../repo/keys.js';

/**
 * The repository's own commands: `repo init`, `repo info` and `key list|add|remove|passwd`, on a
 * local directory or an S3 URL alike (config and key files are objects of its backend).
 * Each opens the repository (and its key) before it changes anything, so a missing or wrong
 * password (KEY, exit 11) leaves the repository as it was.
 */
export type { PasswordSource } from '../repo/config.js';
export { openRepo, isRepository, type OpenedRepo, type RepoConfig } from '../repo/config.js';
// Zstd and zstdVersion: one zstd level's contexts, for the level sweep (bench/zstd-sweep.ts).
export { codecFor, Zstd, zstdVersion, type BlobCodec, type BlobCodecSpec } from '../repo/codec/index.js';

export interface RepoInitOptions {
  /** Default: aes-256-gcm when a password is given, else none. */
  encryption?: BlobCodecSpec['encryption'];
  compression?: BlobCodecSpec['compression'];
  password: PasswordSource;
  kdf?: KdfParams;
}

export interface RepoInitResult {
  dir: string;
  id: string;
  encryption: BlobCodecSpec['encryption'];
  compression: BlobCodecSpec['compression'];
  /** The first key's id (encrypted repositories). */
  keyId?: string;
}

export function repoInit(dir: string, o: RepoInitOptions): RepoInitResult {
  const password = once(o.password);
  const encryption = o.encryption ?? (password() ? 'aes-256-gcm' : 'none');
  const r = initRepo(dir, { encryption, compression: o.compression ?? 'default', password, ...(o.kdf ? { kdf: o.kdf } : {}) });
  return { dir: r.dir, id: r.config.id, encryption, compression: r.config.compression, ...(r.keyId ? { keyId: r.keyId } : {}) };
}

export interface RepoInfo {
  dir: string;
  id: string;
  version: number;
  created: string;
  encryption: string;
  compression: string;
  /** The zstd level behind `compression`; null when off. */
  zstdLevel: number | null;
  /** Key files (0 when unencrypted). */
  keys: number;
  /** The databases backed up in the directory and their repository directories (a keyed hash of the dbPath when encrypted). */
  databases: { dbPath: string; dir: string; compression?: string }[];
}

/** The repository's settings; never a key, a salt or the password. */
export function repoInfo(dir: string, password: PasswordSource): RepoInfo {
  if (isS3Url(dir) && !isRepository(dir)) return s3RepoInfo(dir);
  const r = openRepo(dir, once(password));
  const c = r.config;
  const zstdLevel = c.compression === 'off' ? null : ZSTD_LEVELS[c.compression];
  const databases = repositoriesIn(r.dir, { config: c, spec: r.spec }).map((d) => ({ dbPath: d.dbPath, dir: d.dir }));
  return { dir: r.dir, id: c.id, version: c.version, created: c.created, encryption: c.encryption, compression: c.compression, zstdLevel, keys: keyIds(r.backend).length, databases };
}

/**
 * An S3 URL without a config (made by a first backup without a password: v2, unencrypted, each
 * database's settings in its repo.json): no id, no keys; compression is each database's, joined when they differ.
 */
function s3RepoInfo(url: string): RepoInfo {
  const dbs = repositoriesIn(url, undefined).map((d) => ({ ...d, compression: d.codec?.compression ?? 'v1' }));
  const levels = [...new Set(dbs.map((d) => d.compression))].sort();
  const one = levels.length === 1 ? (levels[0] as BlobCodecSpec['compression']) : undefined;
  const zstdLevel = one && one !== 'off' && one in ZSTD_LEVELS ? ZSTD_LEVELS[one] : null;
  return {
    dir: url,
    id: 'none (S3)',
    version: 2,
    created: dbs.length ? 'at its first backup' : 'not yet (by its first backup)',
    encryption: 'none',
    compression: levels.length ? levels.join(', ') : 'none yet (the first backup sets it: --compression, default "default")',
    zstdLevel,
    keys: 0,
    databases: dbs.map((d) => ({ dbPath: d.dbPath, dir: d.dir, ...(levels.length > 1 ? { compression: d.compression } : {}) })),
  };
}

function openEncrypted(dir: string, password: PasswordSource): OpenedRepo & { keyId: string } {
  const r = openRepo(dir, once(password));
  if (!r.keyId) throw usage(`repository ${dir} is not encrypted: it has no keys`);
  return r as OpenedRepo & { keyId: string };
}

export interface KeyRow {
  id: string;
  current: boolean;
  created: string;
  hostname: string;
  username: string;
  kdf: string;
}

export function keyList(dir: string, password: PasswordSource): KeyRow[] {
  const r = openEncrypted(dir, password);
  return listKeys(r.backend).map((k) => ({ id: k.id, current: k.id === r.keyId, created: k.created, hostname: k.hostname, username: k.username, kdf: `${k.kdf} N=${k.N} r=${k.r} p=${k.p}` }));
}

/** Adds a key for a new password; the current password must open the repository first. */
export function keyAdd(dir: string, password: PasswordSource, newPassword: PasswordSource, kdf?: KdfParams): { id: string } {
  const r = openEncrypted(dir, password);
  const pw = newPassword();
  if (!pw) throw usage('key add needs the new password (CHUNKVAULT_NEW_PASSWORD, --new-password-file or --new-password-command)');
  return { id: withKeysLock(r.backend, 'key add', () => addKeyFile(r.backend, r.spec.masterKey!, pw, kdf)) };
}

/** Removes a key by id or unique prefix: never the key in use, never the last one. */
export function keyRemove(dir: string, password: PasswordSource, id: string): { removed: string } {
  const r = openEncrypted(dir, password);
  const full = resolveKeyId(r.backend, id);
  removeKeyFile(r.backend, full, r.keyId);
  return { removed: full };
}

/**
 * Changes the password of the key in use: the new key is written (durable) before the old one is
 * removed, so a crash between leaves both passwords working, never neither.
 */
export function keyPasswd(dir: string, password: PasswordSource, newPassword: PasswordSource, kdf?: KdfParams): { id: string; removed: string } {
  const r = openEncrypted(dir, password);
  const pw = newPassword();
  if (!pw) throw usage('key passwd needs the new password (CHUNKVAULT_NEW_PASSWORD, --new-password-file or --new-password-command)');
  const id = withKeysLock(r.backend, 'key passwd', () => addKeyFile(r.backend, r.spec.masterKey!, pw, kdf));
  removeKeyFile(r.backend, r.keyId, id);
  return { id, removed: r.keyId };
}
