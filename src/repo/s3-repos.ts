import { CvError, corrupt, notFound } from '../common/errors.js';
import { S3Backend, backendFor, s3Spec } from './backend/index.js';
import { orphanUploadAgeMs } from './backend/s3-config.js';
import { PLAIN_CODEC, codecFor } from './codec/index.js';
import { PackedStore } from './packed.js';
import { parseRepoJson, repoJsonBytes, runSpec, type DirSettings, type RepoAccess } from './settings.js';

/**
 * The store of an S3 repository, always v2: repo.json, points, index and packs are objects under
 * `<prefix>/<name>/` (name: repoDirName). With settings (the prefix has a config) repo.json is
 * sealed with the prefix's codec, encrypted when it is; without, it is plain and names its codec.
 * A first backup writes repo.json create-only, so two racing first backups agree on one.
 */
export function openS3Store(url: string, name: string, dbPath: string, create: boolean, access: RepoAccess, settings: DirSettings | undefined): PackedStore {
  const spec = s3Spec(url, name);
  const dir = spec.root;
  const backend = backendFor(spec);
  const dirCodec = settings && codecFor(settings.spec);
  const buf = backend.read('repo.json');
  if (buf !== undefined) {
    const info = parseRepoJson(buf, `${dir}/repo.json`, dirCodec);
    if (info.dbPath !== dbPath) throw new CvError(settings?.spec.masterKey ? 'CORRUPT' : 'CONFLICT', `${dir} holds a backup of ${info.dbPath}, not ${dbPath}`);
    if (!info.codec) throw corrupt(`${dir}/repo.json describes a v1 repository, which S3 cannot hold`);
    if (info.codec.encryption !== 'none' && !settings) throw corrupt(`${dir}/repo.json says it is encrypted, but ${url} has no config (and so no keys)`);
    return new PackedStore(spec, runSpec(settings?.spec ?? info.codec, access));
  }
  if (!create) throw notFound(`no backup of ${dbPath} in ${url}`);
  const codecSpec = settings?.spec ?? { ...PLAIN_CODEC, compression: access.compression ?? 'default' };
  try {
    backend.write('repo.json', repoJsonBytes(dbPath, codecFor(codecSpec)), { createOnly: true });
  } catch (err) {
    if (!(err instanceof CvError && err.code === 'CONFLICT')) throw err;
    return openS3Store(url, name, dbPath, false, access, settings); // a concurrent first backup created it
  }
  return new PackedStore(spec, runSpec(codecSpec, access));
}

/**
 * Prune's sweep of an S3 repository: multipart uploads under its prefix older than
 * CHUNKVAULT_S3_UPLOAD_AGE (default an hour) are a killed run's packs, never completed; they are
 * aborted (RGW keeps their parts otherwise). Undefined for a local store.
 */
export function abortOrphanUploads(store: PackedStore): number | undefined {
  const b = store.backend;
  return b instanceof S3Backend ? b.abortOrphanUploads(orphanUploadAgeMs()) : undefined;
}
