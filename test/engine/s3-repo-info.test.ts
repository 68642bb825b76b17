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

describe.skipIf(!isRoot)('repo info and key commands on s3:// (Ceph RGW)', () => {
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

  it('repo init and key commands refuse s3:// with one usage line (exit 2)', () => {
    for (const args of [['repo', 'init'], ['key', 'list'], ['key', 'add']]) {
      const r = cv(home, [...args, `s3://${bucket}/i`]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(/^chunkvault: repo init and key commands do not take S3 repositories/)]);
    }
  });
});

describe.skipIf(isRoot)('repo info on s3:// (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
