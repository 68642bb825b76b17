import fs from 'node:fs';
import path from 'node:path';
import { blockDeviceOf } from './machine.js';

/**
 * Removing a tree of many files right before a timed command slows that command down on an ext4
 * without a journal (this machine's root file system): for 60 s after a deletion (300 s while the
 * inode table block is dirty) the inode allocator passes over every recently freed inode, looking
 * each one up in the buffer cache (recently_deleted() in fs/ext4/ialloc.c, which runs only when the
 * file system has no journal). In a profile of a restore of the many shape (32k files) right after
 * the previous restore's tree was removed, that lookup took a quarter of the CPU; restores started
 * within seconds of such a removal ran 6.05 and 6.11 s wall (5.9 and 6.3 s system), against 4.15 s
 * (2.8 s system) for one started 65 s after the last removal (same build, shared machine).
 *
 * The harness removed trees right before some timed commands and not others (a restic restore came
 * after restic's backup, which frees little; chunkvault's restore and cp came right after 32k-file
 * removals), so the comparison measured the order of the phases. It now sets such trees aside with a
 * rename, which frees nothing, and removes them all when the run ends (emptyDiscarded), untimed.
 * Only on an ext4 without a journal; elsewhere, or past DEFER_MAX_BYTES in all, a tree goes at once.
 */
const DEFER_MAX_BYTES = 4 * 2 ** 30;

const deferred: string[] = [];
let deferredBytes = 0;

/** Removes the tree at `p` now, or sets it aside until emptyDiscarded() (see above). */
export function discard(p: string): void {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return;
  const bytes = st.isDirectory() && journalLess(st.dev) ? treeBytes(p) : Infinity;
  if (deferredBytes + bytes > DEFER_MAX_BYTES) return fs.rmSync(p, { recursive: true, force: true });
  const aside = path.join(path.dirname(p), `.cv-discarded-${process.pid}-${deferred.length}`);
  fs.renameSync(p, aside);
  deferred.push(aside);
  deferredBytes += bytes;
}

/** Removes every tree set aside by discard(); call when no timed command follows. */
export function emptyDiscarded(): void {
  for (const p of deferred.splice(0)) fs.rmSync(p, { recursive: true, force: true });
  deferredBytes = 0;
}

/** Whether the file system of device `dev` is an ext4 without a journal (sysfs says `<none>`). */
export function journalLess(dev: number): boolean {
  const { sys } = blockDeviceOf(dev);
  try {
    return sys !== null && fs.readFileSync(`/sys/fs/ext4/${path.basename(sys)}/journal_task`, 'utf8').trim() === '<none>';
  } catch {
    return false;
  }
}

/** Bytes the tree holds on disk (allocated blocks), links not followed. */
function treeBytes(dir: string): number {
  let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const st = fs.lstatSync(path.join(e.parentPath, e.name), { throwIfNoEntry: false });
    if (st) bytes += st.blocks * 512;
  }
  return bytes;
}
