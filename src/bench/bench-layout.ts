import fs from 'node:fs';
import path from 'node:path';
import { CvError } from '../common/errors.js';
import { formatBytes } from '../common/units.js';
import { initCluster } from '../store/index.js';
import type { BenchOptions } from './bench-options.js';
import { makeEmulatedDisks, type EmulatedDisks } from './emulate.js';
import { makeLoopDevices, type LoopDevices } from './loop-devices.js';
import { describeDisk } from './machine.js';
import { checkBytes } from './phase-device-check.js';
import { isRoot } from './measure.js';
import { discard } from './discard.js';

/** Where the bench puts its homes, backups and restores: plain directories, or loop devices as root. */
export interface Layout {
  home: string;
  volumes: string[];
  backupRoot: string;
  /** Where restores (chunkvault and restic) write: volumes of a fresh cluster home on the volume devices. */
  restoreVolumes: (tag: string) => string[];
  resticTarget: string;
  loops?: LoopDevices;
  emulated?: EmulatedDisks;
  kind: 'directories' | 'loop-ext4' | 'emulated';
  note?: string;
}

function loopLayout(n: number, work: string, log: (s: string) => void, dataBytes: number): Layout {
  const volDevs = Math.max(1, n - 1);
  const volSize = Math.ceil((2.4 * dataBytes) / volDevs) + (1 << 30);
  const bakSize = Math.ceil(2.4 * dataBytes) + (1 << 30);
  const sizes = n === 1 ? [volSize + bakSize] : [...Array.from({ length: volDevs }, () => volSize), bakSize];
  log(`making ${n} loop-mounted ext4 device(s) (sparse images under ${work}/dev)`);
  const loops = makeLoopDevices(path.join(work, 'dev'), sizes);
  const volMounts = n === 1 ? loops.mounts : loops.mounts.slice(0, -1);
  const bakMount = loops.mounts[loops.mounts.length - 1]!;
  const volumes = volMounts.map((m, i) => path.join(m, `vol${i}`));
  return {
    home: path.join(work, 'home'),
    volumes,
    backupRoot: path.join(bakMount, 'backup'),
    restoreVolumes: (tag) => volMounts.map((m, i) => path.join(m, `${tag}-vol${i}`)),
    resticTarget: path.join(volMounts[0]!, 'restic-restore'),
    loops,
    kind: 'loop-ext4',
    note: `${n} loop devices (${loops.devices.join(', ')}), ext4, ${loops.directIo ? 'direct I/O to their backing files' : 'buffered backing files'}; ${n === 1 ? 'volumes and backups share the one device' : `${volDevs} volume device(s), backups on ${loops.devices[n - 1]}`}. They share the disk holding the images, so they exercise the per-disk queues but add no bandwidth.`,
  };
}

/** Volumes on the emulated volume disks, backups and the device check on the emulated backup disk. */
function emulatedLayout(o: BenchOptions, work: string, log: (s: string) => void, dataBytes: number): Layout {
  const fastest = Math.max(o.emulate!.volumes.bytesPerSec, o.emulate!.backup.bytesPerSec);
  const em = makeEmulatedDisks(o.emulate!, path.join(work, 'emulated'), dataBytes, o.deviceTestBytes ?? checkBytes(fastest), log, o.emulateCopies, o.keep ? undefined : work);
  const vols = em.disks.filter((d) => d.role === 'volume').map((d) => d.mount);
  const bak = em.disks.find((d) => d.role === 'backup')!.mount;
  return {
    home: path.join(work, 'home'),
    volumes: vols.map((m, i) => path.join(m, `vol${i}`)),
    backupRoot: path.join(bak, 'backup'),
    restoreVolumes: (tag) => vols.map((m, i) => path.join(m, `${tag}-vol${i}`)),
    resticTarget: path.join(vols[0]!, 'restic-restore'),
    emulated: em,
    kind: 'emulated',
    note: em.description,
  };
}

export function makeLayout(o: BenchOptions, work: string, log: (s: string) => void, dataBytes: number, notes: string[]): Layout {
  const backupRoot = o.backupDir ? path.join(path.resolve(o.backupDir), path.basename(work)) : path.join(work, 'backup');
  if (o.emulate) return emulatedLayout(o, work, log, dataBytes);
  if (o.devices > 0 && !isRoot) notes.push(`--devices ${o.devices} ignored: loop devices need root; volumes and backups are plain directories.`);
  if (o.devices > 0 && isRoot) return loopLayout(o.devices, work, log, dataBytes);
  const home = path.join(work, 'home');
  return {
    home,
    volumes: [path.join(home, 'volumes', 'node1', 'vol0')],
    backupRoot,
    restoreVolumes: (tag) => [path.join(work, tag, 'volumes', 'node1', 'vol0')],
    resticTarget: path.join(work, 'restic-restore'),
    kind: 'directories',
  };
}

/** A fresh cluster home; `disk` names every volume's disk (one name for all = one global queue). */
export function initHome(home: string, volumes: string[], disk?: string): void {
  discard(home);
  initCluster(home, { volumes: volumes.map((v) => `node1=${v}${disk ? `:${disk}` : ''}`) });
}

/** Removes a scratch home and the volumes it had on the volume devices. */
export function removeHome(layout: Layout, home: string, tag: string): void {
  discard(home);
  for (const v of layout.restoreVolumes(tag)) discard(v);
}

export function checkSpace(dir: string, need: number, what: string): void {
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) d = path.dirname(d);
  const st = fs.statfsSync(d);
  const free = st.bavail * st.bsize;
  // IO (exit 6): one line, before anything is generated, not an internal error.
  if (free < need) throw new CvError('IO', `not enough free space for ${what} in ${d}: need about ${formatBytes(need)}, ${formatBytes(free)} free (use --home / --backup-dir to choose other disks, or a smaller --size)`);
}

/** Files and bytes under a directory (0 when it does not exist). */
export function walk(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const go = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) go(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  if (fs.existsSync(dir)) go(dir);
  return { files, bytes };
}

export const devOf = (p: string) => describeDisk('', p).dev;
