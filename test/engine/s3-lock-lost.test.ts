import os from 'node:os';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CEPH_REASON, isRoot, testClient } from '../helpers/ceph.js';
import { runCliAsync } from '../helpers/cli.js';
import { DB, cvJson, endScene, s3Scene } from './s3-helpers.js';

let home: string;
let bucket: string;

async function exists(key: string): Promise<boolean> {
  try {
    await testClient().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)('a backup whose S3 lock was taken over (Ceph RGW)', () => {
  beforeAll(async () => {
    ({ bucket, home } = await s3Scene('lost'));
  }, 300_000);
  afterAll(() => endScene(bucket, home));

  it('does not commit its point and exits 5 naming the new holder', async () => {
    // Slowed down so the lock can be replaced while the backup copies.
    const run = runCliAsync(['--home', home, 'backup-db', `s3://${bucket}/lost`, DB, '--max-rate', '1MB']);
    const key = 'lost/testdb/lock';
    for (let i = 0; i < 200 && !(await exists(key)); i++) await new Promise((r) => setTimeout(r, 50));
    const mine = JSON.parse(Buffer.from(await (await testClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()).toString()) as { holder: string };
    expect(mine.holder).toMatch(/^job /);
    // What a takeover leaves: another holder's lock under the same name (a new ETag).
    const now = new Date().toISOString();
    const other = { holder: 'job other-writer', host: os.hostname(), pid: process.pid, since: now, refreshed: now, nonce: 'feedfeedfeedfeed' };
    await testClient().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(other) }));
    const r = await run;
    expect(r.code, r.stderr).toBe(5);
    expect(r.errLines).toEqual([expect.stringMatching(/^chunkvault: the lock of backup repository s3:\/\/.+\/lost\/testdb was taken over by job other-writer \(pid \d+ on \S+ since .*\) while this run held it; nothing was committed$/)]);
    expect(cvJson<unknown[]>(home, ['points', `s3://${bucket}/lost`, DB])).toEqual([]);
    // The new holder's lock is left alone.
    const after = JSON.parse(Buffer.from(await (await testClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()).toString()) as { nonce: string };
    expect(after.nonce).toBe(other.nonce);
  }, 120_000);
});

describe.skipIf(isRoot)('a backup whose S3 lock was taken over (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
