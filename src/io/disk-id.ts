import fs from 'node:fs';
import path from 'node:path';

/**
 * A disk is what a per-disk queue limits: a configured name when the operator gave one (e.g.
 * volumes mapped to names in the cluster config), else `dev:<st_dev>` of the nearest existing
 * ancestor, so a path that is not yet created (a new backup dir) still maps to its device.
 *
 * @param names mount point or directory -> disk name; the longest matching prefix wins.
 */
export function diskOf(p: string, names?: Record<string, string>): string {
  const abs = path.resolve(p);
  if (names) {
    let best: string | undefined;
    let bestLen = -1;
    for (const [dir, name] of Object.entries(names)) {
      const d = path.resolve(dir);
      const inside = abs === d || abs.startsWith(d.endsWith(path.sep) ? d : d + path.sep);
      if (inside && d.length > bestLen) [best, bestLen] = [name, d.length];
    }
    if (best !== undefined) return best;
  }
  return `dev:${fs.statSync(nearestExisting(abs)).dev}`;
}

export type FsType = 'ext4' | 'xfs' | 'btrfs' | 'tmpfs' | 'unknown';

const MAGIC: Record<number, FsType> = {
  0xef53: 'ext4', // also ext2/ext3: they share the magic
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
};

/** The file system type of the device holding `p` (or its nearest existing ancestor). */
export function fsTypeOf(p: string): FsType {
  return MAGIC[fs.statfsSync(nearestExisting(path.resolve(p))).type] ?? 'unknown';
}

/**
 * Whether copy_file_range / FICLONE may share blocks instead of copying them. XFS can only if
 * formatted with reflink=1, which statfs cannot tell, so this is "maybe": used for warnings and
 * messages, never to promise independence of a copy.
 */
export function mayClone(t: FsType): boolean {
  return t === 'xfs' || t === 'btrfs';
}

function nearestExisting(abs: string): string {
  let d = abs;
  for (;;) {
    try {
      fs.statSync(d);
      return d;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const up = path.dirname(d);
      if (up === d) throw err;
      d = up;
    }
  }
}
