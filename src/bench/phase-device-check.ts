import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { CvError } from '../common/errors.js';
import { stopwatch } from '../common/units.js';
import type { DeviceRoles } from './analysis.js';
import { measureDevice, type DeviceLimit } from './device-limit.js';
import type { EmulatedDisk, EmulatedDisks } from './emulate.js';
import { dropCaches } from './measure.js';

/** One emulated disk measured both ways against what was asked. */
export interface DeviceCheck {
  dev: string;
  device: string;
  role: string;
  askedMbPerSec: number;
  fileBytes: number;
  direct: { write: number; read: number };
  buffered: { write: number; read: number };
  /** Every figure within ±tolerance of what was asked. */
  ok: boolean;
  attempts: number;
  /** The tolerance applied: 0.05 unless --device-tolerance said otherwise. */
  tolerance: number;
}

export const TOLERANCE = 0.05;
const BLOCK = 4 << 20;
const mbps = (bytes: number, s: number) => Math.round((bytes / 1e6 / s) * 10) / 10;

const sectorsWritten = (name: string) => Number(fs.readFileSync(`/sys/block/${name}/stat`, 'utf8').trim().split(/\s+/)[6]) * 512;

/**
 * The writeback rate: the file is written through the page cache (async writes, so sampling goes
 * on) and fdatasync'd, while the bytes reaching the device are sampled every 20 ms from
 * /sys/block/<dev>/stat. The rate is taken from the moment 10% of them had arrived to the end,
 * leaving out the memory copy before writeback starts and the throttle's first slice (it lets
 * 100 ms worth through at once); background writeback of a large file is counted where it happens.
 */
async function bufferedWrite(file: string, name: string, buf: Buffer, blocks: number): Promise<number> {
  const fh = await fsp.open(file, 'w');
  const samples: [number, number][] = [];
  const clock = stopwatch();
  const base = sectorsWritten(name);
  const poll = setInterval(() => samples.push([clock(), sectorsWritten(name)]), 20);
  try {
    for (let i = 0; i < blocks; i++) await fh.write(buf, 0, BLOCK, i * BLOCK);
    await fh.datasync();
  } finally {
    clearInterval(poll);
    await fh.close();
  }
  samples.push([clock(), sectorsWritten(name)]);
  const last = samples[samples.length - 1]!;
  const from = samples.find(([, b]) => b - base >= 0.1 * (last[1] - base)) ?? samples[0]!;
  return last[0] > from[0] ? mbps(last[1] - from[1], last[0] - from[0]) : 0;
}

/**
 * Buffered read after drop_caches, 4 requests in flight as the copy workers keep them (read-ahead
 * at work), timed over the whole file: read-ahead runs ahead of the requests, so a clock started
 * after the first 10% of blocks measured bytes already fetched and read 11% over a 100 MB/s limit.
 */
async function bufferedRead(file: string, blocks: number): Promise<number> {
  const fh = await fsp.open(file, 'r');
  try {
    let next = 0;
    const t = stopwatch();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const buf = Buffer.allocUnsafeSlow(BLOCK);
        while (next < blocks) await fh.read(buf, 0, BLOCK, next++ * BLOCK);
      }),
    );
    return mbps(blocks * BLOCK, t());
  } finally {
    await fh.close();
  }
}

/** Buffered write (writeback rate) and read of a laid-out file: the path the page cache takes. */
export async function measureBuffered(dir: string, name: string, fileBytes: number): Promise<{ write: number; read: number }> {
  const file = path.join(dir, `.cv-device-check-${process.pid}.bin`);
  const buf = randomFillSync(Buffer.allocUnsafeSlow(BLOCK));
  const blocks = Math.max(10, Math.round(fileBytes / BLOCK));
  try {
    await bufferedWrite(file, name, buf, blocks); // lays the file out, untimed
    dropCaches();
    const write = await bufferedWrite(file, name, buf, blocks);
    dropCaches();
    return { write, read: await bufferedRead(file, blocks) };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function checkOne(d: EmulatedDisk, fileBytes: number, tolerance: number): Promise<{ check: Omit<DeviceCheck, 'attempts' | 'tolerance'>; limit: DeviceLimit }> {
  const dir = path.join(d.mount, '.device-check');
  dropCaches();
  // 16 requests of 1 MiB in flight: deep enough to keep a 500 MB/s throttle busy (4 × 1 MiB fell
  // to ~410 MB/s on a busy machine), small enough that little is served before the clock starts.
  const limit = await measureDevice(dir, d.dev, fileBytes, 1 << 20, 16, 0.1);
  const buffered = await measureBuffered(dir, d.device.replace('/dev/', ''), fileBytes);
  fs.rmSync(dir, { recursive: true, force: true });
  const asked = d.bytesPerSec / 1e6;
  const direct = { write: limit.write.mbPerSec, read: limit.read.mbPerSec };
  const figures = limit.method === 'O_DIRECT' ? [direct.write, direct.read, buffered.write, buffered.read] : [NaN];
  return {
    check: { dev: d.dev, device: d.device, role: d.role, askedMbPerSec: asked, fileBytes: limit.fileBytes, direct, buffered, ok: figures.every((v) => Math.abs(v / asked - 1) <= tolerance) },
    limit: { ...limit, path: d.mount },
  };
}



/**
 * Test file size: about 3 s at the asked rate (at least 128 MiB, at most 2 GiB). The throttle may
 * let up to one slice (100 ms) of unused budget through at once when a starved submitter catches
 * up: 3% of a 3 s transfer.
 */
export function checkBytes(bytesPerSec: number): number {
  return Math.min(2 * 2 ** 30, Math.max(128 << 20, Math.round((3 * bytesPerSec) / BLOCK) * BLOCK));
}

/**
 * Phase `device-check` (emulated disks only, before any timed phase): every disk, O_DIRECT and
 * buffered, write and read, must be within ±5% of the asked rate; a disk that is not gets up to
 * two more tries (a busy machine slows the loop devices' kernel threads). Otherwise throws (CHECK_FAILED, exit 8): the run refuses to report.
 */
export async function runDeviceCheck(
  em: EmulatedDisks,
  log: (s: string) => void,
  fileBytes?: number,
  tolerance = TOLERANCE,
): Promise<{ checks: DeviceCheck[]; limits: DeviceLimit[]; devs: DeviceRoles }> {
  const checks: DeviceCheck[] = [];
  const limits: DeviceLimit[] = [];
  for (const d of em.disks) {
    let r = await checkOne(d, fileBytes ?? checkBytes(d.bytesPerSec), tolerance);
    let attempts = 1;
    while (!r.check.ok && attempts < 3) {
      log(`device check ${d.device}: outside ±${tolerance * 100}% (${JSON.stringify({ direct: r.check.direct, buffered: r.check.buffered })}), trying again`);
      em.trim();
      r = await checkOne(d, fileBytes ?? checkBytes(d.bytesPerSec), tolerance);
      attempts++;
    }
    em.trim();
    const c = { ...r.check, attempts, tolerance };
    checks.push(c);
    limits.push(r.limit);
    log(`device check ${d.device} (${d.role}, asked ${c.askedMbPerSec} MB/s): O_DIRECT write ${c.direct.write} read ${c.direct.read}, buffered write ${c.buffered.write} read ${c.buffered.read} MB/s: ${c.ok ? 'ok' : `OUTSIDE ±${tolerance * 100}%`}`);
  }
  const bad = checks.filter((c) => !c.ok);
  if (bad.length)
    throw new CvError(
      'CHECK_FAILED',
      `device check failed, refusing to report: ${bad.map((c) => `${c.device} (${c.role}) asked ${c.askedMbPerSec} MB/s, measured O_DIRECT ${c.direct.write}/${c.direct.read}, buffered ${c.buffered.write}/${c.buffered.read} MB/s (write/read)`).join('; ')}; every figure must be within ±${tolerance * 100}%, or the results would not describe the emulated hardware`,
    );
  const vols = em.disks.filter((d) => d.role === 'volume').map((d) => d.dev);
  return { checks, limits, devs: { volumes: vols, backup: em.disks.find((d) => d.role === 'backup')!.dev } };
}
