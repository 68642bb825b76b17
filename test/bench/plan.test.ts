import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanLeftovers } from '../../dist/bench/emulate-cleanup.js';
import { runCliAsync } from '../helpers/cli.js';
import { isRoot, rmTmp, tmpDir } from '../helpers/tmp.js';

const BLKIO = '/sys/fs/cgroup/blkio';
const canEmulate = isRoot && fs.existsSync(`${BLKIO}/blkio.throttle.write_bps_device`);
const SKIP = canEmulate ? '' : ' (skipped: needs root and the cgroup v1 blkio controller to make throttled loop devices)';
const dir = tmpDir('plan');
// Kept apart from the bench's state files, as in emulate.test.ts (this file runs in the same sequential group).
const stateDir = '/run/chunkvault-emulate-test';
beforeAll(() => {
  process.env.CHUNKVAULT_EMULATE_STATE_DIR = stateDir;
  if (canEmulate) cleanLeftovers();
});
afterAll(() => rmTmp(dir));

interface PlanJson {
  files: { json: string; md: string };
  plan: {
    projections: { op: string; seconds: number; low: number; high: number; diskFloorSeconds: number | null }[];
    samples: { bytes: number }[];
    validation?: { sample: { bytes: number }; ops: { op: string; measured: number; low: number; high: number; inside: boolean }[] };
    disks: { kind: string };
  };
}

describe('chunkvault plan', () => {
  it('refuses a bad --device-test-size with one line and exit 2, and makes nothing', async () => {
    const home = path.join(dir, 'bad-size');
    const r = await runCliAsync(['--home', home, 'plan', '--size', '1GB', '--emulate', 'volumes=1x100MB/s,backup=1x100MB/s', '--device-test-size', 'abc', '--out', path.join(dir, 'bad-out')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^chunkvault: bad size "abc"/)]);
    expect(fs.existsSync(home)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'bad-out'))).toBe(false);
  });


  // What it asserts is the plan's shape and arithmetic, never whether a time fell inside: speed is
  // measured by the committed quiet-machine plans (bench-results), not by a timed test.
  it.skipIf(!canEmulate)(`projects backup, check and restore from two samples on emulated disks and measures a validation run on the same disks${SKIP}`, async () => {
    const out = path.join(dir, 'out');
    // A device check of 128 MB per disk (0.64 s at 200 MB/s), not the default ~3 s of data: three
    // disks x four transfers were ~36 s of this file. The throttle's 100 ms catch-up is ~16% of so
    // short a transfer, hence the wider tolerance; the rate itself is emulate.test.ts's to check.
    const r = await runCliAsync(['--home', path.join(dir, 'home'), 'plan', '--size', '10GB', '--emulate', 'volumes=2x200MB/s,backup=1x200MB/s', '--samples', '20MB,40MB', '--validate', '80MB', '--device-test-size', '128MB', '--device-tolerance', '25', '--out', out, '--label', 't', '--json'], { CHUNKVAULT_EMULATE_STATE_DIR: stateDir });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as PlanJson;
    expect(j.plan.disks.kind).toBe('emulated');
    expect(j.plan.samples).toHaveLength(2);
    expect(j.plan.projections.map((p) => p.op)).toEqual(['backup', 'check', 'restore']);
    for (const p of j.plan.projections) {
      expect(p.low).toBeLessThanOrEqual(p.seconds);
      expect(p.seconds).toBeLessThanOrEqual(p.high);
      // 10 GB at 200 MB/s as the device check measured it (within its ±25%): no projection beats the disks
      expect(p.diskFloorSeconds).toBeGreaterThanOrEqual(10e9 / (200e6 * 1.25));
      expect(p.diskFloorSeconds).toBeLessThanOrEqual(10e9 / (200e6 * 0.75));
      expect(p.seconds).toBeGreaterThanOrEqual(p.diskFloorSeconds!);
    }
    const v = j.plan.validation!;
    expect(v.sample.bytes).toBeGreaterThan(j.plan.samples[1]!.bytes);
    for (const o of v.ops) {
      expect(o.measured).toBeGreaterThan(0);
      expect(o.inside).toBe(o.measured >= o.low && o.measured <= o.high);
    }
    expect(fs.readFileSync(j.files.md, 'utf8')).toMatch(/EMULATED/);
    // The disks, the sample homes and the state file are gone.
    expect(fs.readdirSync(path.join(dir, 'home'))).toEqual([]);
    expect(fs.readdirSync(stateDir).filter((f) => f.endsWith('.json'))).toEqual([]);
  }, 300_000);
});
