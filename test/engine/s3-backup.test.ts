import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CEPH_REASON, ensureCeph, isRoot, testClient } from '../helpers/ceph.js';
import { runCliAsync } from '../helpers/cli.js';
import { DB, cv, cvJson, digest, endScene, s3Scene } from './s3-helpers.js';

let home: string;
let bucket: string;
let secret: string;

/** Keys of the packs under a repository prefix. */
async function packKeys(prefix: string): Promise<string[]> {
  const r = await testClient().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/testdb/packs/` }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

describe.skipIf(!isRoot)('backups in S3 (Ceph RGW)', () => {
  beforeAll(async () => {
    secret = ensureCeph().AWS_SECRET_ACCESS_KEY!;
    ({ bucket, home } = await s3Scene('e2e'));
  }, 300_000);
  afterAll(() => endScene(bucket, home));

  it('backup-db to s3:// then restore-db gives a database with the same digest', () => {
    const b = cvJson<{ partitions: number; netRetries: number }>(home, ['backup-db', `s3://${bucket}/a`, DB]);
    expect(b.partitions).toBeGreaterThan(0);
    expect(b.netRetries).toBe(0);
    cvJson(home, ['restore-db', `s3://${bucket}/a`, DB, 'dfs://back']);
    expect(digest(home, 'dfs://back')).toEqual(digest(home, DB));
    expect(cvJson<unknown[]>(home, ['points', `s3://${bucket}/a`, DB])).toHaveLength(1);
    expect(cvJson<unknown[]>(home, ['list', `s3://${bucket}/a`, DB, 'quotes']).length).toBeGreaterThan(0);
    expect(cv(home, ['check', `s3://${bucket}/a`, DB]).code).toBe(0);
  });

  it('check finds a corrupted pack object and a missing one (exit 8)', async () => {
    cvJson(home, ['backup-db', `s3://${bucket}/c`, DB]);
    const [first] = await packKeys('c');
    const c = testClient();
    const body = Buffer.from(await (await c.send(new GetObjectCommand({ Bucket: bucket, Key: first! }))).Body!.transformToByteArray());
    body[body.length - 10] ^= 0xff;
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: first!, Body: body }));
    const bad = cvJson<{ bad: unknown[] }>(home, ['check', `s3://${bucket}/c`, DB], 8);
    expect(bad.bad.length).toBeGreaterThan(0);
    cvJson(home, ['backup-db', `s3://${bucket}/m`, DB]);
    const packs = await packKeys('m');
    await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: packs[0]! }));
    const missing = cvJson<{ bad: unknown[] }>(home, ['check', `s3://${bucket}/m`, DB], 8);
    expect(missing.bad.length).toBeGreaterThan(0);
  });

  it('wrong credentials exit 11 with one line that names neither key nor secret', () => {
    const r = cv(home, ['points', `s3://${bucket}/a`, DB], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(r.code).toBe(11);
    expect(r.errLines).toEqual([expect.stringMatching(/^chunkvault: the S3 credentials were refused by http:\/\/127\.0\.0\.1:\d+ \(SignatureDoesNotMatch\)$/)]);
    expect(r.stderr + r.stdout).not.toContain('not-the-secret');
    expect(r.stderr + r.stdout).not.toContain(secret);
  });

  it('a missing bucket exits 3 with one line naming it', () => {
    const r = cv(home, ['backup-db', `s3://${bucket}-missing/a`, DB]);
    expect(r.code).toBe(3);
    expect(r.errLines).toEqual([`chunkvault: S3 bucket ${bucket}-missing does not exist at ${process.env.AWS_ENDPOINT_URL}`]);
  });

  it('an endpoint that does not answer exits 6 with one line, after the retries it was given', () => {
    const r = cv(home, ['--s3-endpoint', 'http://127.0.0.1:9', 'points', `s3://${bucket}/a`, DB], { CHUNKVAULT_S3_RETRIES: '1' });
    expect(r.code).toBe(6);
    expect(r.errLines).toEqual(['chunkvault: S3 endpoint http://127.0.0.1:9 does not answer (ECONNREFUSED) after 1 retries: read config']);
  });

  it('of two backups racing into one bucket exactly one wins; the other exits 5 naming the holder', async () => {
    const args = ['--home', home, 'backup-db', `s3://${bucket}/race`, DB, '--force', '--max-rate', '4MB'];
    const [a, b] = await Promise.all([runCliAsync(args), runCliAsync(args)]);
    expect([a.code, b.code].sort()).toEqual([0, 5]);
    const loser = a.code === 5 ? a : b;
    expect(loser.errLines).toEqual([expect.stringMatching(/^chunkvault: backup repository s3:\/\/.+\/race\/testdb is locked by job \S+ .*\(pid \d+ on \S+ since /)]);
  }, 120_000);
});

describe.skipIf(isRoot)('backups in S3 (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
