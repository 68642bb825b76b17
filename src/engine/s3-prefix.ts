import { backendFor, s3Spec } from '../repo/backend/index.js';

/**
 * Removes every object under `s3://bucket/prefix`; how many. For the bench's S3 phases, whose run
 * leaves chunkvault repositories and the baselines' copies (rclone's files, restic's repository)
 * under one prefix. Not a command: an operator removes repositories with prune.
 */
export function removeS3Prefix(url: string): number {
  const b = backendFor(s3Spec(url));
  const top = b.list('');
  const all = top.filter((o) => !o.irregular).map((o) => o.name);
  for (const d of top.filter((o) => o.irregular)) all.push(...b.list(`${d.name}/`).map((o) => o.name));
  for (const name of all) b.remove(name);
  return all.length;
}
