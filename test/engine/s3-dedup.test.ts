import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCeph, isRoot, newBucket, removeBucket } from '../helpers/ceph.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { DB, cv, cvJson, digest } from './s3-helpers.js';

let home: string;
let bucket: string;

/** Dedup on the real Ceph gateway: quotes_2 is a copy of quotes, with time.col files of 1.2 MB (over DEDUP_MIN_BYTES). */
describe.skipIf(!isRoot)('backup dedup into an S3 repository', () => {
  beforeAll(async () => {
    ensureCeph();
    bucket = await newBucket('dedup');
    home = scratchDir('s3-dedup');
    cvJson(home, ['init']);
    cvJson(home, ['generate', '--dates', '1', '--symbols', '2', '--rows-per-symbol', '150000', '--workers', '1']);
  }, 300_000);
  afterAll(() => {
    rmTmp(home);
    removeBucket(bucket);
  });

  it('stores the copy as references, and restore and check read them back from the gateway', () => {
    const url = `s3://${bucket}/dd`;
    const r = cvJson<{ filesDeduplicated: number; bytesDeduplicated: number; bytesStored: number; bytesCopied: number }>(home, ['backup-db', url, DB, '--repo-format', '2']);
    expect(r.filesDeduplicated).toBeGreaterThan(0);
    expect(r.bytesStored).toBeLessThan(r.bytesCopied - r.bytesDeduplicated + 1);
    cvJson(home, ['restore-db', url, DB, 'dfs://restored']);
    expect(digest(home, 'dfs://restored')).toEqual(digest(home, DB));
    expect(cv(home, ['check', url, DB]).code).toBe(0);
  });
});
