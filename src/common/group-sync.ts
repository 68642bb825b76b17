import fs from 'node:fs';
import path from 'node:path';
import { closeFile, hooksInstalled, openFile, syncDir, syncFile } from './fsio.js';
import { syncfs, syncfsAsync } from './syncfs-helper.js';

/**
 * Group durability: many files written without an fdatasync each are made durable together with
 * one syncfs(2) per file system (coreutils `sync -f` run by a small helper, syncfs-helper.ts), which flushes the
 * file system's dirty data and commits its journal once. Measured here (ext4, virtio):
 * 2,000 files of 8 KiB, fdatasync each: 0.45–0.9 s; written without and then one syncfs: 35 ms;
 * 2,000 directory renames then an fsync of each parent: 180 ms, one syncfs: 15 ms.
 *
 * `dirs` are the directories whose files and entries must be durable: each directory's own
 * entries and the regular files directly in it (or only `files`, when the caller names them). Where `sync -f` cannot run (or under the test
 * fault layer, which sees only fsio calls) the same set is fsynced one by one: every file
 * directly in each directory, then the directory. syncfs covers a superset of that set, so
 * ordering that is correct for the fallback is correct for syncfs.
 */

let syncfsWorks: boolean | undefined;

function oneDirPerDevice(dirs: string[]): string[] {
  const byDev = new Map<number, string>();
  for (const d of new Set(dirs)) {
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (st && !byDev.has(st.dev)) byDev.set(st.dev, d);
  }
  return [...byDev.values()];
}

/**
 * A set of directories to make durable. `anchors`: paths on every file system the set's
 * directories are on (their database's root on a volume, say); syncfs then stats those rather
 * than each directory: 12,000 `statx` in a many-shape restore's group commits, ~80 ms of its main
 * thread (docs/PERFORMANCE.md, session 22).
 */
export interface SyncSet {
  dirs: string[];
  files?: string[];
  anchors?: string[];
}

const probes = (sets: SyncSet[]) => oneDirPerDevice(sets.flatMap((s) => s.anchors ?? s.dirs));

function syncPath(file: string): void {
  const fd = openFile(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    syncFile(fd);
  } finally {
    closeFile(fd);
  }
}

/**
 * The per-file fallback: `files` if given, else every regular file directly in each directory;
 * then each directory.
 */
export function syncEach(dirs: string[], files?: string[]): void {
  if (files) for (const f of files) syncPath(f);
  for (const d of new Set(dirs)) {
    if (!fs.existsSync(d)) continue;
    if (!files) for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isFile()) syncPath(path.join(d, e.name));
    syncDir(d);
  }
}

const useSyncfs = () => !hooksInstalled() && syncfsWorks !== false;

/** Makes the directories' files and entries durable, blocking (for use under a lock). */
export function groupSync(dirs: string[], files?: string[]): void {
  groupSyncAll([{ dirs, ...(files ? { files } : {}) }]);
}

/** groupSync of several sets at once: one syncfs covers them all; the fallback syncs each set as groupSync would. */
export function groupSyncAll(sets: SyncSet[]): void {
  if (!sets.some((s) => s.dirs.length)) return;
  if (useSyncfs()) {
    if (syncfs(probes(sets))) return void (syncfsWorks = true);
    syncfsWorks = false;
  }
  for (const s of sets) if (s.dirs.length) syncEach(s.dirs, s.files);
}

/**
 * groupSync off the event loop: the loop goes on while the helper runs the syncfs, one per file
 * system at once (syncfs-helper.ts). `sync -f a b` syncs its arguments one after another, so a
 * restore onto four emulated 500 MB/s disks flushed them in turn (with the writeback kicks below:
 * ~1.3 s of flushing after the last copy of 1.5 GB became ~0.1 s).
 */
export async function groupSyncAsync(dirs: string[], files?: string[]): Promise<void> {
  return groupSyncAllAsync([{ dirs, ...(files ? { files } : {}) }]);
}

/** groupSyncAll off the event loop (groupSyncAsync's sets). */
export async function groupSyncAllAsync(sets: SyncSet[]): Promise<void> {
  if (!sets.some((s) => s.dirs.length)) return;
  if (useSyncfs()) {
    if (await syncfsAsync(probes(sets))) return void (syncfsWorks = true);
    syncfsWorks = false;
  }
  for (const s of sets) if (s.dirs.length) syncEach(s.dirs, s.files);
}

/**
 * Starts the kernel's writeback early while a restore copies without an fdatasync per file. The
 * kernel would hold the copied data dirty until the group commit's syncfs (its background threshold
 * is 10% of memory: gigabytes here), so the volume disks sat idle during the copies and the whole
 * flush came at the end. Each time `everyBytes` more have been copied, every volume not already
 * flushing gets a syncfs (through the helper, one request in flight); the group commit's own
 * syncs then find little left to write. A hint only: durability still comes from the group commit.
 */
export class WritebackKicker {
  private running: Promise<boolean> | undefined;
  private last = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dirs: string[],
    private readonly bytes: () => number,
    private readonly everyBytes: number,
    pollMs: number,
  ) {
    if (useSyncfs() && dirs.length) this.timer = setInterval(() => this.poll(), pollMs);
  }

  private poll(): void {
    const now = this.bytes();
    if (now - this.last < this.everyBytes || this.running) return;
    this.last = now;
    // One request for every volume (the helper syncs them at once), one in flight.
    this.running = syncfsAsync(oneDirPerDevice(this.dirs)).finally(() => (this.running = undefined));
  }

  /** Stops kicking; resolves once no syncfs it started is still running. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
