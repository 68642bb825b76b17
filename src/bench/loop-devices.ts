import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/**
 * N loop-mounted ext4 file systems, each its own block device (own st_dev), so chunkvault's
 * per-disk queues see N disks. Loop ext4 rather than tmpfs: it has a page cache that
 * drop_caches empties, fsync reaches a device, and its images can be larger than RAM. The loop
 * devices use direct I/O on their backing files (no double caching) where the kernel allows it.
 * They all sit on the disk that holds the images, so they share its bandwidth: they exercise the
 * queues, they do not add bandwidth.
 */
export interface LoopDevices {
  mounts: string[];
  devices: string[];
  directIo: boolean;
  cleanup(): void;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export function makeLoopDevices(baseDir: string, sizes: number[]): LoopDevices {
  const made: { img: string; dev?: string; mnt: string; mounted?: boolean }[] = [];
  let directIo = true;
  const cleanup = () => {
    for (const m of made.reverse()) {
      try {
        if (m.mounted) run('umount', [m.mnt]);
      } catch {
        try {
          run('umount', ['-l', m.mnt]);
        } catch {
          /* already gone */
        }
      }
      try {
        if (m.dev) run('losetup', ['-d', m.dev]);
      } catch {
        /* already detached */
      }
      fs.rmSync(m.img, { force: true });
    }
    made.length = 0;
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', cleanup);
  try {
    fs.mkdirSync(path.join(baseDir, 'images'), { recursive: true });
    sizes.forEach((size, i) => {
      const m = { img: path.join(baseDir, 'images', `disk${i}.img`), mnt: path.join(baseDir, 'mnt', `disk${i}`) } as (typeof made)[number];
      made.push(m);
      fs.writeFileSync(m.img, '');
      fs.truncateSync(m.img, Math.ceil(size / (1 << 20)) * (1 << 20)); // sparse
      try {
        m.dev = run('losetup', ['--find', '--show', '--direct-io=on', m.img]);
      } catch {
        directIo = false;
        m.dev = run('losetup', ['--find', '--show', m.img]);
      }
      run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', m.dev]);
      fs.mkdirSync(m.mnt, { recursive: true });
      run('mount', [m.dev, m.mnt]);
      m.mounted = true;
    });
  } catch (err) {
    cleanup();
    throw new Error(`could not make ${sizes.length} loop device(s): ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    mounts: made.map((m) => m.mnt),
    devices: made.map((m) => m.dev!),
    directIo,
    cleanup: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('exit', cleanup);
      cleanup();
    },
  };
}
