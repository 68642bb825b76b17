import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CEPH_REASON, isRoot } from '../helpers/ceph.js';
import { DB, cv, cvJson, endScene, s3Scene } from './s3-helpers.js';

let home: string;
let bucket: string;

interface Info {
  dir: string;
  version: number;
  encryption: string;
  compression: string;
  zstdLevel: number | null;
  keys: number;
  databases: { dbPath: string; dir: string; compression?: string }[];
}

describe.skipIf(!isRoot)('repo init and repo info on s3:// (Ceph RGW)', () => {
  beforeAll(async () => {
    ({ bucket, home } = await s3Scene('info'));
  }, 300_000);
  afterAll(() => endScene(bucket, home));

  it('repo info shows v2, no encryption, the compression and the databases', () => {
    const url = `s3://${bucket}/i`;
    expect(cvJson<Info>(home, ['repo', 'info', url])).toMatchObject({ dir: url, version: 2, encryption: 'none', keys: 0, databases: [] });
    cvJson(home, ['backup-db', url, DB, '--compression', 'fast']);
    const one = cvJson<Info>(home, ['repo', 'info', url]);
    expect(one).toMatchObject({ version: 2, encryption: 'none', compression: 'fast', keys: 0, databases: [{ dbPath: DB, dir: 'testdb' }] });
    expect(one.zstdLevel).toBeGreaterThan(0);
    cvJson(home, ['backup-db', url, 'dfs://testdb_tsdb', '--compression', 'off']);
    const two = cvJson<Info>(home, ['repo', 'info', url]);
    expect(two).toMatchObject({ compression: 'fast, off', zstdLevel: null });
    expect(two.databases).toEqual([
      { dbPath: DB, dir: 'testdb', compression: 'fast' },
      { dbPath: 'dfs://testdb_tsdb', dir: 'testdb_tsdb', compression: 'off' },
    ]);
    const text = cv(home, ['repo', 'info', url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/encryption\s+none/);
    expect(text.stdout).toContain('dfs://testdb_tsdb');
  });

  it('repo init on s3:// makes an encrypted prefix that repo info describes with the password', () => {
    const url = `s3://${bucket}/enc`;
    const env = { CHUNKVAULT_PASSWORD: 'pw-info' };
    const made = cvJson<{ encryption: string; keyId: string }>(home, ['repo', 'init', url, '--compression', 'fast'], 0, env);
    expect(made.encryption).toBe('aes-256-gcm');
    expect(cvJson<Info>(home, ['repo', 'info', url], 0, env)).toMatchObject({ dir: url, version: 2, encryption: 'aes-256-gcm', compression: 'fast', keys: 1, databases: [] });
    const wrong = cv(home, ['repo', 'info', url], { CHUNKVAULT_PASSWORD: 'not-it' });
    expect(wrong.code).toBe(11);
    expect(wrong.errLines).toEqual([expect.stringMatching(/^chunkvault: wrong password/)]);
  });

  it('repo init on an s3:// prefix that holds a backup is refused with exit 4', () => {
    const url = `s3://${bucket}/taken`;
    cvJson(home, ['backup-db', url, DB]);
    const r = cv(home, ['repo', 'init', url, '--encryption', 'none']);
    expect(r.code).toBe(4);
    expect(r.errLines).toEqual([expect.stringMatching(/is not empty/)]);
  });

  it('a first backup with a password into a new s3:// prefix makes it encrypted, its database under a keyed name', () => {
    const url = `s3://${bucket}/first-enc`;
    const env = { CHUNKVAULT_PASSWORD: 'pw-first' };
    cvJson(home, ['backup-db', url, DB], 0, env);
    const info = cvJson<Info>(home, ['repo', 'info', url], 0, env);
    expect(info).toMatchObject({ encryption: 'aes-256-gcm', keys: 1, databases: [{ dbPath: DB }] });
    expect(info.databases[0]!.dir).toMatch(/^[0-9a-f]{32}$/);
    expect(cvJson<unknown[]>(home, ['points', url, DB], 0, env)).toHaveLength(1);
  });
});

describe.skipIf(isRoot)('repo info on s3:// (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
