import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanLeftovers } from '../../dist/bench/emulate-cleanup.js';
import { makeEmulatedDisks, parseEmulateSpec, pickBacking } from '../../dist/bench/emulate.js';
import { checkBytes, runDeviceCheck } from '../../dist/bench/phase-device-check.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { isRoot, rmTmp, tmpDir } from '../helpers/tmp.js';

const BLKIO = '/sys/fs/cgroup/blkio';
const canEmulate = isRoot && fs.existsSync(`${BLKIO}/blkio.throttle.write_bps_device`);
const SKIP = canEmulate ? '' : ' (skipped: needs root and the cgroup v1 blkio controller to make throttled loop devices)';
const dir = tmpDir('emulate');
// This file's runs keep their state files apart from the bench's own (/run/chunkvault-emulate), in
// one fixed place, so that a run of this file killed midway (a CI run stopped at its time limit)
// leaves state files that the next run finds and undoes first. A scratch directory per run hid them,
// and loop devices, mounts and throttles stayed behind (session 6).
const stateDir = '/run/chunkvault-emulate-test';
process.env.CHUNKVAULT_EMULATE_STATE_DIR = stateDir;
beforeAll(() => {
  if (canEmulate) cleanLeftovers();
});
afterAll(() => {
  cleanLeftovers();
  rmTmp(dir);
});

const throttled = (dev: string) => fs.readFileSync(`${BLKIO}/blkio.throttle.write_bps_device`, 'utf8').split('\n').some((l) => l.startsWith(`${dev} `));
const mounted = (p: string) => fs.readFileSync('/proc/mounts', 'utf8').includes(` ${p} `);
const loopsOf = (img: string) => execFileSync('losetup', ['-j', img], { encoding: 'utf8' }).trim();

describe('emulated disks (bench --emulate)', () => {
  it('the spec refuses latency and names why: blkio limits only bytes/s and IO/s', () => {
    expect(() => parseEmulateSpec('volumes=4x500MB/s,backup=1x500MB/s,latency=1ms')).toThrow(/dm-delay/);
    expect(parseEmulateSpec('volumes=4x500MB/s,backup=1x500MB/s,iops=2000,fs=xfs')).toMatchObject({ volumes: { count: 4, bytesPerSec: 500e6 }, backup: { bytesPerSec: 500e6 }, iops: 2000, fs: 'xfs' });
  });

  it('auto backing counts an operation\'s page cache: the plan\'s 4.6 GB validation goes to sparse files where its copies alone fit in memory', () => {
    const GB = 1e9;
    const auto = { backing: 'auto' as const };
    // 2.2 copies x 4.6 GB + 1 GB test = 11.1 GB fits in 60% of 20.8 GB (12.5); with 2 x 4.6 GB of page cache it does not.
    expect(pickBacking(auto, 4.6 * GB, 1 * GB, 2.2, 20.8 * GB)).toBe('sparse');
    expect(pickBacking(auto, 1 * GB, 1 * GB, 2.2, 20.8 * GB)).toBe('tmpfs');
    expect(pickBacking({ backing: 'tmpfs' }, 4.6 * GB, 1 * GB, 2.2, 20.8 * GB)).toBe('tmpfs');
  });

  it('the device check moves about 3 s of data at the asked rate, at most 2 GiB', () => {
    expect(checkBytes(500e6)).toBe(358 * (4 << 20));
    expect(checkBytes(100e6)).toBe(72 * (4 << 20));
    expect(checkBytes(40e9)).toBe(2 * 2 ** 30);
  });

  it.skipIf(!canEmulate)(`an emulated 100 MB/s disk measures within ±5% for O_DIRECT and buffered writes and reads${SKIP}`, async () => {
    // The production check's size (about 3 s of data): on a shorter file the throttle's one-slice
    // catch-up (100 ms) is over 7 % of the transfer, and the check measured 94.8 MB/s in one CI run.
    const bytes = checkBytes(100e6);
    const em = makeEmulatedDisks(parseEmulateSpec('volumes=1x100MB/s,backup=1x100MB/s'), path.join(dir, 'limit'), 64 << 20, bytes, () => {});
    try {
      const { checks } = await runDeviceCheck(em, () => {}, bytes);
      for (const c of checks) {
        for (const v of [c.direct.write, c.direct.read, c.buffered.write, c.buffered.read]) expect(Math.abs(v / 100 - 1), JSON.stringify(c)).toBeLessThanOrEqual(0.05);
      }
      expect(checks.map((c) => c.role)).toEqual(['volume', 'backup']);
    } finally {
      em.cleanup();
    }
    for (const d of em.disks) {
      expect(mounted(d.mount)).toBe(false);
      expect(throttled(d.dev)).toBe(false);
    }
    expect(fs.existsSync(path.join(dir, 'limit'))).toBe(false);
  }, 150_000);

  it.skipIf(!canEmulate)(`disks left by a run killed with kill -9 are unmounted, detached, unthrottled and removed by the next run${SKIP}`, async () => {
    const base = path.join(dir, 'killed');
    const script = `import { makeEmulatedDisks, parseEmulateSpec } from ${JSON.stringify(path.join(ROOT, 'dist/bench/emulate.js'))};
const em = makeEmulatedDisks(parseEmulateSpec('volumes=2x200MB/s,backup=1x200MB/s'), ${JSON.stringify(base)}, 32 << 20, 64 << 20, () => {});
process.stdout.write(JSON.stringify(em.disks) + '\\n');
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d) && out.includes('\n') && resolve(out));
      child.on('exit', (code) => reject(new Error(`child exited ${code} before making its disks`)));
    });
    const disks = JSON.parse(line) as { dev: string; mount: string; image: string }[];
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(disks).toHaveLength(3);
    for (const d of disks) {
      expect(mounted(d.mount), d.mount).toBe(true);
      expect(throttled(d.dev)).toBe(true);
    }
    const cleaned = cleanLeftovers();
    expect(cleaned.join('\n')).toMatch(new RegExp(`killed run pid ${child.pid}\\b`));
    for (const d of disks) {
      expect(mounted(d.mount)).toBe(false);
      expect(throttled(d.dev)).toBe(false);
      expect(fs.existsSync(d.image) ? loopsOf(d.image) : '').toBe('');
    }
    expect(fs.existsSync(base)).toBe(false);
    expect(fs.readdirSync(stateDir).filter((f) => f.endsWith('.json'))).toEqual([]);
  }, 180_000);

  it.skipIf(!canEmulate)(`bench refuses to report (exit 8, no result files) when a disk cannot reach its asked rate${SKIP}`, () => {
    const out = path.join(dir, 'refused-out');
    const r = runCli(['--home', path.join(dir, 'refused'), 'bench', '--emulate', 'volumes=1x40GB/s,backup=1x40GB/s', '--size', '8MB', '--baselines', 'none', '--no-scale', '--device-test-size', '256MB', '--out', out], { CHUNKVAULT_EMULATE_STATE_DIR: stateDir });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toMatch(/device check failed, refusing to report: \/dev\/loop\d+ \(volume\) asked 40000 MB\/s/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'refused'))).toEqual([]);
    expect(fs.readdirSync(stateDir).filter((f) => f.endsWith('.json'))).toEqual([]);
  }, 180_000);
});
