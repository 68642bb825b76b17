import { backendFor, s3Spec } from './backend/index.js';
import { unsealJson } from './sealed-json.js';

/** The databases backed up under an S3 URL: every `<prefix>/<db>/` holding a repo.json that names one. */
export function listS3Repositories(url: string): string[] {
  const top = backendFor(s3Spec(url));
  const out: string[] = [];
  for (const o of top.list('')) {
    if (!o.irregular) continue; // objects at the top are not databases
    const bytes = backendFor(s3Spec(url, o.name)).read('repo.json');
    if (!bytes) continue;
    const meta = unsealJson(Buffer.from(bytes).toString('utf8'), `${url}/${o.name}/repo.json`);
    if (typeof meta.dbPath === 'string') out.push(meta.dbPath);
  }
  return out.sort();
}
