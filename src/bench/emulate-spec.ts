import { usage } from '../common/errors.js';
import { formatBytes, parseBytes } from '../common/units.js';

/** What `--emulate 'volumes=4x500MB/s,backup=1x500MB/s[,iops=…][,fs=xfs][,backing=sparse]'` asks for. */
export interface EmulateSpec {
  /** The text as given, for the report. */
  text: string;
  volumes: { count: number; bytesPerSec: number };
  backup: { count: 1; bytesPerSec: number };
  /** I/O requests per second per disk, read and write alike (blkio.throttle.*_iops_device); 0 = unlimited. */
  iops: number;
  fs: 'ext4' | 'xfs';
  /** tmpfs or sparse files on the disk; 'auto' picks tmpfs when the data fits in memory. */
  backing: 'auto' | 'tmpfs' | 'sparse';
}

const DISKS = /^(\d+)x(\d+(?:\.\d+)?\s*[a-zA-Z]*)\/s$/;

function disks(key: string, value: string): { count: number; bytesPerSec: number } {
  const m = DISKS.exec(value.trim());
  if (!m) throw usage(`--emulate ${key}=${value}: expected COUNTxRATE/s, e.g. ${key}=4x500MB/s`);
  const count = Number(m[1]);
  const bytesPerSec = parseBytes(m[2]!);
  if (count < 1 || count > 16) throw usage(`--emulate ${key}: between 1 and 16 disks, got ${count}`);
  if (bytesPerSec < 1e6) throw usage(`--emulate ${key}: at least 1MB/s, got ${formatBytes(bytesPerSec)}/s`);
  return { count, bytesPerSec };
}

/** Parses the --emulate text; every mistake is a usage error that names the part at fault. */
export function parseEmulateSpec(text: string): EmulateSpec {
  const spec: Partial<EmulateSpec> & { text: string } = { text, iops: 0, fs: 'ext4', backing: 'auto' };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const [key, value] = eq < 0 ? [part, ''] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    if (key === 'volumes') spec.volumes = disks(key, value);
    else if (key === 'backup') {
      const b = disks(key, value);
      if (b.count !== 1) throw usage(`--emulate backup: the bench writes backups to one disk, so backup=1x<rate>/s, got ${b.count}`);
      spec.backup = { count: 1, bytesPerSec: b.bytesPerSec };
    } else if (key === 'iops') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw usage(`--emulate iops: a positive integer of requests per second, got "${value}"`);
      spec.iops = n;
    } else if (key === 'latency')
      throw usage('--emulate latency: not supported here. Added latency needs device-mapper (dm-delay), which this machine lacks; the cgroup v1 blkio throttle limits only bytes/s and IO/s (use iops=)');
    else if (key === 'fs') {
      if (value !== 'ext4' && value !== 'xfs') throw usage(`--emulate fs: ext4 or xfs, got "${value}"`);
      spec.fs = value;
    } else if (key === 'backing') {
      if (value !== 'tmpfs' && value !== 'sparse' && value !== 'auto') throw usage(`--emulate backing: tmpfs, sparse or auto, got "${value}"`);
      spec.backing = value;
    } else throw usage(`--emulate: unknown key "${key}" (expected volumes, backup, iops, fs, backing)`);
  }
  if (!spec.volumes || !spec.backup) throw usage(`--emulate needs volumes= and backup=, e.g. 'volumes=4x500MB/s,backup=1x500MB/s', got "${text}"`);
  return spec as EmulateSpec;
}

/** "4 × 500 MB/s volume disks and 1 × 500 MB/s backup disk (ext4)", for logs and reports. */
export function describeSpec(s: EmulateSpec): string {
  const rate = (b: number) => `${formatBytes(b)}/s`;
  return `${s.volumes.count} × ${rate(s.volumes.bytesPerSec)} volume disk(s) and 1 × ${rate(s.backup.bytesPerSec)} backup disk, ${s.fs}${s.iops ? `, ${s.iops} IO/s each` : ''}`;
}
