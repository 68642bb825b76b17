import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CopyResult } from '../../dist/engine/copy.js';
import { CEPH_REASON, isRoot, testClient } from '../helpers/ceph.js';
import { DB, cv, cvJson, digest, endScene, s3Scene } from './s3-helpers.js';

let home: string;
let bucket: string;

const pw = (src: string | undefined, dst: string | undefined) => ({ CHUNKVAULT_PASSWORD: src, CHUNKVAULT_TO_PASSWORD: dst });

/** Every object under a prefix with its ETag: equal before and after means nothing was written. */
async function objects(prefix: string): Promise<string[]> {
  const r = await testClient().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
  return (r.Contents ?? []).map((o) => `${o.Key} ${o.ETag}`).sort();
}

describe.skipIf(!isRoot)('copy of encrypted repositories (blobs re-encrypted under the target key)', () => {
  beforeAll(async () => {
    ({ bucket, home } = await s3Scene('copyenc'));
  }, 300_000);
  afterAll(() => endScene(bucket, home));

  it('copies encrypted local -> S3 -> S3, each under its own password, and the last copy restores to the same digest', () => {
    const local = path.join(home, 'bak-enc');
    cvJson(home, ['backup-db', local, DB], 0, pw('src-pw', undefined));
    const first = cvJson<CopyResult>(home, ['copy', local, `s3://${bucket}/one`, DB], 0, pw('src-pw', 'one-pw'));
    expect(first).toMatchObject({ points: 1, recoded: true });
    expect(first.packs).toBeGreaterThan(0);
    expect(cvJson<{ encryption: string }>(home, ['repo', 'info', `s3://${bucket}/one`], 0, pw('one-pw', undefined)).encryption).toBe('aes-256-gcm');
    cvJson(home, ['copy', `s3://${bucket}/one`, `s3://${bucket}/two`], 0, pw('one-pw', 'two-pw'));
    cvJson(home, ['restore-db', `s3://${bucket}/two`, DB, 'dfs://copied_enc'], 0, pw('two-pw', undefined));
    expect(digest(home, 'dfs://copied_enc')).toEqual(digest(home, DB));
  });

  it('a second encrypted copy sends no pack, nor does a new point whose entries the target holds in other packs', () => {
    const local = path.join(home, 'bak-inc');
    const url = `s3://${bucket}/inc`;
    cvJson(home, ['backup-db', local, DB], 0, pw('a', undefined));
    const first = cvJson<CopyResult>(home, ['copy', local, url, DB], 0, pw('a', 'b'));
    expect(first.packs).toBeGreaterThan(0);
    expect(cvJson<CopyResult>(home, ['copy', local, url, DB], 0, pw('a', 'b'))).toMatchObject({ points: 0, pointsSkipped: 1, packs: 0, bytes: 0 });
    // --force writes the same entries again into new source packs: the target holds every entry, so nothing moves.
    cvJson(home, ['backup-db', local, DB, '--force'], 0, pw('a', undefined));
    expect(cvJson<CopyResult>(home, ['copy', local, url, DB], 0, pw('a', 'b'))).toMatchObject({ points: 1, pointsSkipped: 1, packs: 0, bytes: 0 });
    expect(cvJson<unknown[]>(home, ['points', url, DB], 0, pw('b', undefined))).toHaveLength(2);
  });

  it('a wrong password for either side exits 11 with one line and writes nothing at the target', async () => {
    const local = path.join(home, 'bak-wrong');
    const url = `s3://${bucket}/wrong`;
    cvJson(home, ['backup-db', local, DB], 0, pw('right-src', undefined));
    cvJson(home, ['repo', 'init', url], 0, pw('right-dst', undefined));
    const before = await objects('wrong');
    for (const [src, dst] of [['right-src', 'bad'], ['bad', 'right-dst']] as const) {
      const r = cv(home, ['copy', local, url, DB], pw(src, dst));
      expect(r.code, `${src} -> ${dst}`).toBe(11);
      expect(r.errLines).toEqual([expect.stringMatching(/^chunkvault: wrong password/)]);
    }
    expect(await objects('wrong')).toEqual(before);
  });

  it('copies an encrypted repository into an unencrypted target made with repo init, and plain back into a new encrypted one', () => {
    const local = path.join(home, 'bak-plain-src');
    cvJson(home, ['backup-db', local, DB], 0, pw('x', undefined));
    const plain = `s3://${bucket}/plain`;
    cvJson(home, ['repo', 'init', plain, '--encryption', 'none']);
    cvJson(home, ['copy', local, plain, DB], 0, pw('x', undefined));
    expect(cvJson<{ encryption: string }>(home, ['repo', 'info', plain]).encryption).toBe('none');
    const back = path.join(home, 'bak-reenc');
    cvJson(home, ['copy', plain, back, DB], 0, pw(undefined, 'y'));
    cvJson(home, ['restore-db', back, DB, 'dfs://plain_reenc'], 0, pw('y', undefined));
    expect(digest(home, 'dfs://plain_reenc')).toEqual(digest(home, DB));
  });

  it('an encrypted source into a new target without a target password is refused (exit 2) and creates nothing', async () => {
    const local = path.join(home, 'bak-nopw');
    cvJson(home, ['backup-db', local, DB], 0, pw('z', undefined));
    const r = cv(home, ['copy', local, `s3://${bucket}/nopw`, DB], pw('z', undefined));
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([expect.stringMatching(/is encrypted: give the target's password/)]);
    expect(await objects('nopw')).toEqual([]);
  });
});

describe.skipIf(isRoot)('copy of encrypted repositories (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
