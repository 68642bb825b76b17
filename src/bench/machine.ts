import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsTypeOf } from '../io/index.js';

export interface DiskInfo {
  /** What lives there: volume, backup, or both. */
  role: string;
  path: string;
  /** st_dev as major:minor. */
  dev: string;
  /** Block device name from /sys/dev/block (e.g. vda, loop3), when it is one. */
  blockDevice: string | null;
  model: string | null;
  rotational: boolean | null;
  sizeBytes: number | null;
  fsType: string;
}

export interface MachineInfo {
  hostname: string;
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  os: string;
  node: string;
  root: boolean;
  disks: DiskInfo[];
  /**
   * The guest's free page reporting (virtio-balloon): the smallest order of free blocks handed
   * back to the host, or null when the kernel has none. While on, each cold-cache step's freed
   * page cache is faulted back in from the host: the wide shape's backup took 3.2 s (2.7 s system)
   * with it and 2.3 s (1.1 s) without, in alternating runs (docs/PERFORMANCE.md, session 10).
   */
  pageReportingOrder?: number | null;
}

const read = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};

function nearestExisting(p: string): string {
  let d = path.resolve(p);
  while (!fs.existsSync(d)) d = path.dirname(d);
  return d;
}

/** st_dev as major:minor, and the device's own sysfs directory (a partition's, not its disk's); null when it is no block device (tmpfs, overlay). */
export function blockDeviceOf(stDev: number): { dev: string; sys: string | null } {
  const major = Math.floor(stDev / 256) & 0xfff;
  const minor = (stDev & 0xff) | ((stDev >> 12) & 0xfff00);
  const dev = `${major}:${minor}`;
  try {
    return { dev, sys: fs.realpathSync(`/sys/dev/block/${dev}`) };
  } catch {
    return { dev, sys: null };
  }
}

/** Describes the device a path sits on, from /sys/dev/block (partitions report their parent disk's model). */
export function describeDisk(role: string, p: string): DiskInfo {
  const { dev, sys } = blockDeviceOf(fs.statSync(nearestExisting(p)).dev);
  const disk = sys && fs.existsSync(path.join(sys, 'partition')) ? path.dirname(sys) : sys;
  const name = disk ? path.basename(disk) : null;
  const vendor = disk ? read(path.join(disk, 'device/vendor')) : null;
  const model = disk ? (read(path.join(disk, 'device/model')) ?? (vendor === '0x1af4' ? 'virtio block device' : vendor)) : null;
  const loopBacking = disk ? read(path.join(disk, 'loop/backing_file')) : null;
  const rot = disk ? read(path.join(disk, 'queue/rotational')) : null;
  const sectors = sys ? read(path.join(sys, 'size')) : null;
  return {
    role,
    path: path.resolve(p),
    dev,
    blockDevice: name,
    model: loopBacking ? `loop device backed by ${loopBacking}` : model,
    rotational: rot === null ? null : rot === '1',
    sizeBytes: sectors === null ? null : Number(sectors) * 512,
    fsType: fsTypeOf(p),
  };
}

/** Disks are listed once per device; roles of paths on the same device are joined ("volume+backup"). */
export function describeMachine(paths: { role: string; path: string }[]): MachineInfo {
  const disks: DiskInfo[] = [];
  for (const p of paths) {
    const d = describeDisk(p.role, p.path);
    const same = disks.find((x) => x.dev === d.dev);
    if (same) {
      if (!same.role.split('+').includes(p.role)) same.role += `+${p.role}`;
    } else disks.push(d);
  }
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: `${os.type()} ${read('/etc/os-release')?.match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? os.version()}`,
    node: process.version,
    root: typeof process.getuid === 'function' && process.getuid() === 0,
    disks,
    pageReportingOrder: pageReportingOrder(),
  };
}

/**
 * /sys/module/page_reporting's order when a virtio balloon offers free page reporting (feature bit
 * 5, VIRTIO_BALLOON_F_REPORTING, in its sysfs `features` string); null otherwise.
 */
function pageReportingOrder(): number | null {
  const order = read('/sys/module/page_reporting/parameters/page_reporting_order');
  const dir = '/sys/bus/virtio/drivers/virtio_balloon';
  let devices: string[] = [];
  try {
    devices = fs.readdirSync(dir).filter((d) => d.startsWith('virtio'));
  } catch {
    return null;
  }
  const reports = devices.some((d) => read(path.join(dir, d, 'features'))?.[5] === '1');
  return order !== null && reports ? Number(order) : null;
}
