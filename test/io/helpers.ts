import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import xxhash from '@node-rs/xxhash';

export const MiB = 1 << 20;
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const ROOT_REASON = 'needs root to mount tmpfs/loop devices';

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cv-io-${tag}-`));
}

export function randomFile(file: string, size: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.allocUnsafe(Math.min(size, 4 * MiB));
  for (let left = size; left > 0; ) {
    const n = Math.min(left, chunk.length);
    randomFillSync(chunk, 0, n);
    fs.writeSync(fd, chunk, 0, n);
    left -= n;
  }
  fs.closeSync(fd);
}

/** Independent of the code under test: whole-file read and the one-shot API, not the streaming class. */
export function hashOfFile(file: string): string {
  return xxhash.xxh3.xxh64(fs.readFileSync(file), 0n).toString(16).padStart(16, '0');
}

export function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir]);
  } catch {
    execFileSync('umount', ['-l', dir]);
  }
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('which', [cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
