import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayCpu, stopWatchingGateway, watchGateway } from '../../dist/bench/gateway-cpu.js';
import { runTool } from '../../dist/bench/measure.js';
import { removeS3Run, s3Goals, s3Ratios, s3RunRoot } from '../../dist/bench/phase-s3.js';
import type { Measurement } from '../../dist/bench/result.js';
import { CEPH_REASON, ensureCeph, isRoot, newBucket, removeBucket, testClient } from '../helpers/ceph.js';

const measured = (name: string, mbPerSec: number): Measurement => ({
  name,
  tool: 'chunkvault',
  command: '',
  status: 'ok',
  bytes: 1,
  runs: [],
  median: { seconds: 1, mbPerSec, cpuSeconds: null, peakRssBytes: null },
});

describe('the S3 goals', () => {
  it('compare backup and restore with rclone each way, and backup with restic', () => {
    const ratios = s3Ratios([measured('backup', 300), measured('restore', 240)], [measured('rclone-up', 150), measured('rclone-down', 260)]);
    expect(ratios).toEqual([
      { phase: 'backup', versus: 'rclone', value: 2 },
      { phase: 'restore', versus: 'rclone', value: 0.923 },
    ]);
    const goals = s3Goals([...ratios, { phase: 'backup', versus: 'restic', value: 1.6 }]);
    expect(goals.map((g) => g.met)).toEqual([true, true, false]);
  });

  it('leave a goal unjudged when its baseline was not measured', () => {
    expect(s3Goals(s3Ratios([measured('backup', 300)], [])).map((g) => g.met)).toEqual([null, null, null]);
  });
});

describe.skipIf(!isRoot)('the S3 bench against Ceph RGW', () => {
  let bucket: string;
  beforeAll(async () => {
    ensureCeph();
    bucket = await newBucket('bench');
  }, 300_000);
  afterAll(() => {
    stopWatchingGateway();
    removeBucket(bucket);
  });

  it("removes every object under the run's prefix and nothing beside it", async () => {
    const s3 = testClient();
    const put = (Key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
    const root = s3RunRoot(`s3://${bucket}/bench/`, '/tmp/cv-bench-x');
    expect(root).toBe(`s3://${bucket}/bench/cv-bench-x`);
    for (const k of ['a', 'chunkvault-1/db/packs/aa/p', 'rclone-1/0/v/f', 'restic-1/data/00/d']) await put(`bench/cv-bench-x/${k}`);
    await put('bench/other/keep');
    expect(removeS3Run(`s3://${bucket}/bench`, '/tmp/cv-bench-x')).toBe(4);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((left.Contents ?? []).map((o) => o.Key)).toEqual(['bench/other/keep']);
  });

  it("records the gateway's CPU beside a command's while Ceph runs on this host", async () => {
    expect(watchGateway()).toBeGreaterThanOrEqual(2);
    expect(gatewayCpu()).toBeGreaterThan(0);
    const r = await runTool('true', []);
    expect(r.gatewayCpuSeconds).toBeGreaterThanOrEqual(0);
    stopWatchingGateway();
    expect('gatewayCpuSeconds' in (await runTool('true', []))).toBe(false);
  });
});

describe.skipIf(isRoot)('the S3 bench against Ceph RGW', () => {
  it.skip(CEPH_REASON, () => undefined);
});
