import fs from 'node:fs';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { dropCaches } from './measure.js';

export interface DeviceLimit {
  dev: string;
  path: string;
  /** `O_DIRECT`, or `fdatasync+drop_caches` where the file system refuses O_DIRECT (e.g. tmpfs). */
  method: 'O_DIRECT' | 'fdatasync+drop_caches' | 'fdatasync (warm read)';
  fileBytes: number;
  blockBytes: number;
  write: { seconds: number; mbPerSec: number };
  read: { seconds: number; mbPerSec: number };
  note?: string;
}

const ALIGN = 4096;
const mbps = (bytes: number, s: number) => (s > 0 ? Math.round((bytes / 1e6 / s) * 10) / 10 : 0);

function openDirect(file: string, flags: number): number | null {
  const O_DIRECT = fs.constants.O_DIRECT;
  if (!O_DIRECT) return null;
  try {
    return fs.openSync(file, flags | O_DIRECT, 0o600);
  } catch {
    return null;
  }
}

/**
 * O_DIRECT needs a buffer at an aligned address, and Node does not tell a buffer's address. So
 * allocate one block + 4096 bytes and find, by trying, the offset inside it at which the kernel
 * accepts an O_DIRECT write (the address is at least 8-aligned, so at most 512 cheap EINVALs).
 */
function probeAlignment(fd: number, block: number): Buffer | null {
  const raw = Buffer.allocUnsafeSlow(block + ALIGN);
  randomFillSync(raw);
  for (let off = 0; off < ALIGN; off += 8) {
    try {
      fs.writeSync(fd, raw, off, block, 0);
      return raw.subarray(off, off + block);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
  }
  return null;
}

/**
 * Sequential write then read of one large file in the given directory, from Node, bypassing the
 * page cache with O_DIRECT. When O_DIRECT is refused it falls back to buffered writes + one
 * fdatasync (counted), then drop_caches and a buffered read, and says so.
 */
export function measureDevice(dir: string, dev: string, fileBytes: number, blockBytes = 4 << 20): DeviceLimit {
  const file = path.join(dir, `.cv-bench-device-${process.pid}.bin`);
  const blocks = Math.max(1, Math.round(fileBytes / blockBytes));
  const total = blocks * blockBytes;
  fs.mkdirSync(dir, { recursive: true });
  try {
    let fd = openDirect(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC);
    let buf = fd === null ? null : probeAlignment(fd, blockBytes);
    if (fd !== null && buf === null) {
      fs.closeSync(fd);
      fd = null;
    }
    if (fd !== null && buf !== null) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < blocks; i++) fs.writeSync(fd, buf, 0, blockBytes, i * blockBytes);
      fs.fdatasyncSync(fd);
      const w = Number(process.hrtime.bigint() - t0) / 1e9;
      fs.closeSync(fd);
      const rfd = openDirect(file, fs.constants.O_RDONLY)!;
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < blocks; i++) fs.readSync(rfd, buf, 0, blockBytes, i * blockBytes);
      const r = Number(process.hrtime.bigint() - t1) / 1e9;
      fs.closeSync(rfd);
      return { dev, path: dir, method: 'O_DIRECT', fileBytes: total, blockBytes, write: { seconds: w, mbPerSec: mbps(total, w) }, read: { seconds: r, mbPerSec: mbps(total, r) } };
    }
    buf = randomFillSync(Buffer.allocUnsafeSlow(blockBytes));
    const wfd = fs.openSync(file, 'w', 0o600);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < blocks; i++) fs.writeSync(wfd, buf, 0, blockBytes, i * blockBytes);
    fs.fdatasyncSync(wfd);
    const w = Number(process.hrtime.bigint() - t0) / 1e9;
    fs.closeSync(wfd);
    const cold = dropCaches();
    const rfd = fs.openSync(file, 'r');
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < blocks; i++) fs.readSync(rfd, buf, 0, blockBytes, i * blockBytes);
    const r = Number(process.hrtime.bigint() - t1) / 1e9;
    fs.closeSync(rfd);
    return {
      dev,
      path: dir,
      method: cold ? 'fdatasync+drop_caches' : 'fdatasync (warm read)',
      fileBytes: total,
      blockBytes,
      write: { seconds: w, mbPerSec: mbps(total, w) },
      read: { seconds: r, mbPerSec: mbps(total, r) },
      note: `O_DIRECT was refused here; buffered write + fdatasync, then ${cold ? 'a read after drop_caches' : 'a read from the page cache (not root: cannot drop caches), so the read figure is memory speed'}`,
    };
  } finally {
    fs.rmSync(file, { force: true });
  }
}
