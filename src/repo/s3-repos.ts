import { CvError, corrupt, notFound } from '../common/errors.js';
import { dbNameOf } from '../store/index.js';
import { S3Backend, backendFor, s3Spec } from './backend/index.js';
import { orphanUploadAgeMs } from './backend/s3-config.js';
import { PLAIN_CODEC, codecFor } from './codec/index.js';
import { PackedStore } from './packed.js';
import { parseRepoJson, repoJsonBytes, runSpec, type RepoAccess } from './settings.js';

/** The databases backed up under an S3 URL: every `<prefix>/<db>/` holding a repo.json that names one. */
export function listS3Repositories(url: string): string[] {
  // Objects at the top are not databases; "directories" holding a repo.json are.
  return s3RepositoriesWithCodec(url).map((r) => r.dbPath);
}

/** Each database repository under an S3 URL, with the codec its repo.json records, by dbPath. */
export function s3RepositoriesWithCodec(url: string): { dbPath: string; dir: string; compression: string; encryption: string }[] {
  const top = backendFor(s3Spec(url));
  const out: { dbPath: string; dir: string; compression: string; encryption: string }[] = [];
  for (const o of top.list('')) {
    if (!o.irregular) continue;
    const bytes = backendFor(s3Spec(url, o.name)).read('repo.json');
    if (!bytes) continue;
    const info = parseRepoJson(bytes, `${url}/${o.name}/repo.json`, undefined);
    out.push({ dbPath: info.dbPath, dir: o.name, compression: info.codec?.compression ?? 'v1', encryption: info.codec?.encryption ?? 'none' });
  }
  return out.sort((a, b) => (a.dbPath < b.dbPath ? -1 : a.dbPath > b.dbPath ? 1 : 0));
}

/** Where a database's repository lives under an S3 URL. */
export function s3RepoDir(url: string, dbPath: string): string {
  return `${url.replace(/\/+$/, '')}/${dbNameOf(dbPath)}`;
}

/**
 * The store of an S3 repository, always v2 and unencrypted (keys and config are local files):
 * repo.json, points, index and packs are objects under `<prefix>/<db>/`. A first backup writes
 * repo.json create-only, so two racing first backups agree on one.
 */
export function openS3Store(url: string, dbPath: string, create: boolean, access: RepoAccess): PackedStore {
  const dir = s3RepoDir(url, dbPath);
  const spec = s3Spec(url, dbNameOf(dbPath));
  const backend = backendFor(spec);
  const buf = backend.read('repo.json');
  if (buf !== undefined) {
    const info = parseRepoJson(buf, `${dir}/repo.json`, undefined);
    if (info.dbPath !== dbPath) throw new CvError('CONFLICT', `${dir} holds a backup of ${info.dbPath}, not ${dbPath}`);
    if (!info.codec) throw corrupt(`${dir}/repo.json describes a v1 repository, which S3 cannot hold`);
    if (info.codec.encryption !== 'none') throw corrupt(`${dir}/repo.json says it is encrypted, but S3 repositories have no keys`);
    return new PackedStore(spec, runSpec(info.codec, access));
  }
  if (!create) throw notFound(`no backup of ${dbPath} in ${url}`);
  const codecSpec = { ...PLAIN_CODEC, compression: access.compression ?? 'default' };
  try {
    backend.write('repo.json', repoJsonBytes(dbPath, codecFor(codecSpec)), { createOnly: true });
  } catch (err) {
    if (!(err instanceof CvError && err.code === 'CONFLICT')) throw err;
    return openS3Store(url, dbPath, false, access); // a concurrent first backup created it
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
