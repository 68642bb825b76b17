import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CEPH_REASON, isRoot, testClient } from '../helpers/ceph.js';
import { DB, cv, cvJson, digest, endScene, s3Scene } from './s3-helpers.js';

let home: string;
let bucket: string;
let n = 0;

interface KeyRow {
  id: string;
  current: boolean;
}

const as = (password: string, extra: Record<string, string> = {}) => ({ CHUNKVAULT_PASSWORD: password, ...extra });

/** A new encrypted S3 repository holding one backup of DB, made with `password`. */
function encryptedRepo(password: string): string {
  const url = `s3://${bucket}/k${n++}`;
  cvJson(home, ['repo', 'init', url], 0, as(password));
  cvJson(home, ['backup-db', url, DB], 0, as(password));
  return url;
}

describe.skipIf(!isRoot)('key commands on s3:// (key files are objects under the prefix)', () => {
  beforeAll(async () => {
    ({ bucket, home } = await s3Scene('keys'));
  }, 300_000);
  afterAll(() => endScene(bucket, home));

  it('a key added on s3:// opens it for backup and restore, and once the old key is removed the old password exits 11', () => {
    const url = encryptedRepo('old-pw');
    const [old] = cvJson<KeyRow[]>(home, ['key', 'list', url], 0, as('old-pw'));
    cvJson(home, ['key', 'add', url], 0, as('old-pw', { CHUNKVAULT_NEW_PASSWORD: 'new-pw' }));
    const keys = cvJson<KeyRow[]>(home, ['key', 'list', url], 0, as('new-pw'));
    expect(keys).toHaveLength(2);
    expect(keys.find((k) => k.current)!.id).not.toBe(old!.id);
    cvJson(home, ['backup-db', url, DB, '--force'], 0, as('new-pw'));
    cvJson(home, ['key', 'remove', url, old!.id.slice(0, 8)], 0, as('new-pw'));
    cvJson(home, ['restore-db', url, DB, 'dfs://keys_new'], 0, as('new-pw'));
    expect(digest(home, 'dfs://keys_new')).toEqual(digest(home, DB));
    const refused = cv(home, ['points', url, DB], as('old-pw'));
    expect(refused.code).toBe(11);
    expect(refused.errLines).toEqual([expect.stringMatching(/^chunkvault: wrong password: it opens none of the 1 key\(s\) of s3:/)]);
  });

  it('key passwd on s3:// makes the new password open the repository and the old one exit 11', () => {
    const url = encryptedRepo('before');
    const r = cvJson<{ id: string; removed: string }>(home, ['key', 'passwd', url], 0, as('before', { CHUNKVAULT_NEW_PASSWORD: 'after' }));
    expect(cvJson<KeyRow[]>(home, ['key', 'list', url], 0, as('after'))).toEqual([expect.objectContaining({ id: r.id, current: true })]);
    expect(cv(home, ['key', 'list', url], as('before')).code).toBe(11);
  });

  it('the last key of an s3:// repository cannot be removed: exit 4, and it still opens', () => {
    const url = encryptedRepo('only');
    const [only] = cvJson<KeyRow[]>(home, ['key', 'list', url], 0, as('only'));
    const r = cv(home, ['key', 'remove', url, only!.id], as('only'));
    expect(r.code).toBe(4);
    expect(r.errLines).toEqual([expect.stringMatching(/refusing to remove the last key/)]);
    expect(cvJson<unknown[]>(home, ['points', url, DB], 0, as('only'))).toHaveLength(1);
  });

  it('key add on s3:// while another key command holds keys.lock exits 5 naming the holder, and adds no key', async () => {
    const url = encryptedRepo('locked');
    const now = new Date().toISOString();
    const holder = { holder: 'key remove (pid 4242)', host: 'elsewhere', pid: 4242, since: now, refreshed: now, nonce: 'abcd' };
    await testClient().send(new PutObjectCommand({ Bucket: bucket, Key: `${url.slice(`s3://${bucket}/`.length)}/keys.lock`, Body: JSON.stringify(holder) }));
    const r = cv(home, ['key', 'add', url], as('locked', { CHUNKVAULT_NEW_PASSWORD: 'second' }));
    expect(r.code).toBe(5);
    expect(r.errLines).toEqual([expect.stringMatching(/the keys of s3:.* is locked by key remove \(pid 4242\)/)]);
    expect(cvJson<KeyRow[]>(home, ['key', 'list', url], 0, as('locked'))).toHaveLength(1);
  });
});

describe.skipIf(isRoot)('key commands on s3:// (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
