import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/** A fresh directory under the OS temp dir; remove it with rmTmp (or leave it for a failed test to inspect). */
export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cv-${tag}-`));
}

/**
 * Scratch space on /dev/shm (tmpfs) when there is one, else under the OS temp dir: for tests that
 * fsync a lot and do not measure the disk. tmpfs keeps every behaviour they check (O_NOFOLLOW,
 * O_EXCL, rename, symlinks) and makes fsync free; performance is measured by the benchmark instead.
 */
export function scratchDir(tag: string): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return fs.mkdtempSync(path.join('/dev/shm', `cv-${tag}-`));
  } catch {
    return tmpDir(tag);
  }
}

export function rmTmp(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** The reason a test that needs its own devices is skipped when the suite does not run as root. */
export const ROOT_REASON = 'skipped: needs root to mount tmpfs (run the suite as root to exercise separate devices)';

/**
 * Mounts a tmpfs of the given size at dir (created if missing) and returns an unmount function.
 * Call only when isRoot; use `it.skipIf(!isRoot)` with ROOT_REASON in the test name.
 */
export function mountTmpfs(dir: string, size = '64m'): () => void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return () => {
    try {
      execFileSync('umount', [dir]);
    } catch {
      execFileSync('umount', ['-l', dir]);
    }
  };
}

/** Every file under dir (relative paths, sorted), following no symlinks. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
