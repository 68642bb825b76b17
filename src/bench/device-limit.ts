import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { dropCaches } from './measure.js';
import { stopwatch } from '../common/units.js';

export interface DeviceLimit {
  dev: string;
  path: string;
  /** `O_DIRECT`, or `fdatasync+drop_caches` where the file system refuses O_DIRECT (e.g. tmpfs). */
  method: 'O_DIRECT' | 'fdatasync+drop_caches' | 'fdatasync (warm read)';
  fileBytes: number;
  blockBytes: number;
  /** Requests in flight. */
  queueDepth: number;
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
 * Writes (or reads) blocks 0..n-1 with `lanes.length` requests in flight, one buffer per lane.
 * The clock starts once `warm` blocks have completed (0: at once), so a throttle's burst at the
 * start (the first requests in flight pass at once) is left out of the rate.
 */
async function sweep(fh: fsp.FileHandle, lanes: Buffer[], blocks: number, blockBytes: number, write: boolean, warm = 0): Promise<number> {
  let next = 0;
  let done = 0;
  let elapsed = stopwatch();
  await Promise.all(
    lanes.map(async (buf) => {
      while (next < blocks) {
        const pos = next++ * blockBytes;
        if (write) await fh.write(buf, 0, blockBytes, pos);
        else await fh.read(buf, 0, blockBytes, pos);
        if (++done === warm) elapsed = stopwatch();
      }
    }),
  );
  if (write) await fh.datasync();
  return elapsed();
}

/**
 * Sequential write then read of one large file in the given directory, from Node, bypassing the
 * page cache with O_DIRECT, with `queueDepth` requests in flight (libuv's pool runs 4 at once;
 * at depth 1 a virtio disk shows half its speed, while cp and the kernel's writeback keep many
 * requests queued). The file is laid out before the timed write (see below). When O_DIRECT is refused (tmpfs) it falls back to buffered writes + one
 * counted fdatasync, then drop_caches and a buffered read, and says so.
 */
/** `warmFraction`: the share of blocks done before the clock starts (see sweep); 0 times everything. */
export async function measureDevice(dir: string, dev: string, fileBytes: number, blockBytes = 4 << 20, queueDepth = 4, warmFraction = 0): Promise<DeviceLimit> {
  const file = path.join(dir, `.cv-bench-device-${process.pid}.bin`);
  const blocks = Math.max(1, Math.round(fileBytes / blockBytes));
  const total = blocks * blockBytes;
  const warm = Math.floor(blocks * warmFraction);
  const rate = (s: number) => ({ seconds: s, mbPerSec: mbps((blocks - warm) * blockBytes, s) });
  fs.mkdirSync(dir, { recursive: true });
  try {
    const probeFd = openDirect(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC);
    const lanes: Buffer[] = [];
    if (probeFd !== null) {
      for (let i = 0; i < queueDepth; i++) {
        const b = probeAlignment(probeFd, blockBytes);
        if (!b) break;
        lanes.push(b);
      }
      fs.closeSync(probeFd);
    }
    if (lanes.length === queueDepth) {
      // Lay the file out first, untimed, as fio does: O_DIRECT writes that extend a file make ext4
      // allocate extents synchronously (a third of the device's speed here), which measures the
      // file system, not the device. The timed write then overwrites allocated blocks.
      const lh = await fsp.open(file, 'r+');
      await sweep(lh, lanes, blocks, blockBytes, true).finally(() => lh.close());
      dropCaches();
      const D = fs.constants.O_DIRECT;
      const wh = await fsp.open(file, fs.constants.O_WRONLY | D);
      const w = await sweep(wh, lanes, blocks, blockBytes, true, warm).finally(() => wh.close());
      const rh = await fsp.open(file, fs.constants.O_RDONLY | D);
      const r = await sweep(rh, lanes, blocks, blockBytes, false, warm).finally(() => rh.close());
      return { dev, path: dir, method: 'O_DIRECT', fileBytes: total, blockBytes, queueDepth, write: rate(w), read: rate(r) };
    }
    const bufs = Array.from({ length: queueDepth }, () => randomFillSync(Buffer.allocUnsafeSlow(blockBytes)));
    const wh = await fsp.open(file, 'w', 0o600);
    const w = await sweep(wh, bufs, blocks, blockBytes, true, warm).finally(() => wh.close());
    const cold = dropCaches();
    const rh = await fsp.open(file, 'r');
    const r = await sweep(rh, bufs, blocks, blockBytes, false, warm).finally(() => rh.close());
    return {
      dev,
      path: dir,
      method: cold ? 'fdatasync+drop_caches' : 'fdatasync (warm read)',
      fileBytes: total,
      blockBytes,
      queueDepth,
      write: rate(w),
      read: rate(r),
      note: `O_DIRECT was refused here; buffered write + fdatasync, then ${cold ? 'a read after drop_caches' : 'a read from the page cache (not root: cannot drop caches), so the read figure is memory speed'}`,
    };
  } finally {
    fs.rmSync(file, { force: true });
  }
}
