import path from 'node:path';
import { renamePath } from '../common/fsio.js';
import { entryKind, listDir, removeEntry, walkDirs } from './safe-fs.js';
import { checkFileName } from './names.js';

/**
 * A v1 repository's entry directories, `data/<chunkId>/<table>/<cid>/`. Every path goes through
 * safe-fs: directories on the way must be real, nothing is followed.
 */

/**
 * Where the files of one (chunkId, table, cid) live. A copy that an older version's --force left
 * aside (`.old-<cid>-*`, its replacement never renamed in) is read in place, so every reader sees
 * the entry without waiting for a backup to recover it.
 */
export function entryDir(repoDir: string, chunkId: string, table: string, cid: number): string {
  const rel = ['data', chunkId, table, String(cid)];
  const dir = walkDirs(repoDir, rel);
  if (dir !== undefined) return dir;
  const aside = listDir(repoDir, rel.slice(0, 3)).find((e) => e.kind === 'directory' && e.name.startsWith(`.old-${cid}-`));
  return path.join(repoDir, ...(aside ? [...rel.slice(0, 3), aside.name] : rel));
}

/** The paths of an entry's files in its directory, in the manifest's order. */
export const filesIn = (dir: string, files: { name: string }[]): string[] => files.map((f) => path.join(dir, checkFileName(f.name)));

/**
 * Puts back an entry set aside whose replacement never landed (left by an older version's
 * --force) and removes leftover copies and staging directories. Only real directories are looked
 * into; anything else is left for check to report.
 */
export function recoverEntries(repoDir: string): void {
  const dirs = (rel: string[]) => listDir(repoDir, rel).filter((e) => e.kind === 'directory');
  for (const chunk of dirs(['data']))
    for (const table of dirs(['data', chunk.name])) {
      const rel = ['data', chunk.name, table.name];
      for (const e of listDir(repoDir, rel)) {
        const old = /^\.old-(\d+)-/.exec(e.name);
        if (old && e.kind === 'directory' && !entryKind(repoDir, [...rel, old[1]!])) {
          const dir = walkDirs(repoDir, rel)!;
          renamePath(path.join(dir, e.name), path.join(dir, old[1]!));
        } else if (old || e.name.startsWith('.staging-')) removeEntry(repoDir, [...rel, e.name]);
      }
    }
}
