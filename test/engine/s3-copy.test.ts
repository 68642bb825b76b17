import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CopyResult } from '../../dist/engine/copy.js';
import { CEPH_REASON, isRoot } from '../helpers/ceph.js';
import { DB, cvJson, digest, endScene, s3Scene } from './s3-helpers.js';

let home: string;
let bucket: string;

describe.skipIf(!isRoot)('copy between local and S3 repositories', () => {
  beforeAll(async () => {
    ({ bucket, home } = await s3Scene('copy'));
  }, 300_000);
  afterAll(() => endScene(bucket, home));

  it('copies local -> S3 -> S3 -> local, and the last copy restores to the same digest', () => {
    const local = path.join(home, 'bak-local');
    cvJson(home, ['backup-db', local, DB, '--repo-format', '2']);
    const first = cvJson<CopyResult>(home, ['copy', local, `s3://${bucket}/one`, DB]);
    expect(first).toMatchObject({ points: 1, pointsSkipped: 0, packsSkipped: 0 });
    expect(first.packs).toBeGreaterThan(0);
    cvJson(home, ['copy', `s3://${bucket}/one`, `s3://${bucket}/two`]);
    const back = path.join(home, 'bak-back');
    cvJson(home, ['copy', `s3://${bucket}/two`, back, DB]);
    expect(cvJson<{ pointId: string }[]>(home, ['points', back, DB])).toEqual(cvJson(home, ['points', local, DB]));
    cvJson(home, ['restore-db', back, DB, 'dfs://copied']);
    expect(digest(home, 'dfs://copied')).toEqual(digest(home, DB));
  });

  it('is incremental: a second copy sends nothing, and new points over entries the target holds send no pack', () => {
    const local = path.join(home, 'bak-inc');
    cvJson(home, ['backup-db', local, DB, '--repo-format', '2']);
    const url = `s3://${bucket}/inc`;
    const first = cvJson<CopyResult>(home, ['copy', local, url, DB]);
    expect(cvJson<CopyResult>(home, ['copy', local, url, DB])).toMatchObject({ points: 0, pointsSkipped: 1, packs: 0, bytes: 0 });
    // An unchanged database: the new point shares every entry, so no pack moves.
    cvJson(home, ['backup-db', local, DB]);
    expect(cvJson<CopyResult>(home, ['copy', local, url, DB])).toMatchObject({ points: 1, pointsSkipped: 1, packs: 0, bytes: 0, packsSkipped: first.packs });
    // --force writes the same entries again into new packs: the target indexes every entry, so none moves.
    cvJson(home, ['backup-db', local, DB, '--force']);
    expect(cvJson<CopyResult>(home, ['copy', local, url, DB])).toMatchObject({ points: 1, pointsSkipped: 2, packs: 0, bytes: 0 });
    expect(cvJson<unknown[]>(home, ['points', url, DB])).toHaveLength(3);
  });

  it('--point copies one restore point', () => {
    const local = path.join(home, 'bak-one');
    cvJson(home, ['backup-db', local, DB, '--repo-format', '2']);
    cvJson(home, ['backup-db', local, DB, '--force']);
    const [older] = cvJson<{ pointId: string }[]>(home, ['points', local, DB]);
    const r = cvJson<CopyResult>(home, ['copy', local, `s3://${bucket}/single`, DB, '--point', older!.pointId]);
    expect(r.points).toBe(1);
    expect(cvJson<{ pointId: string }[]>(home, ['points', `s3://${bucket}/single`, DB]).map((p) => p.pointId)).toEqual([older!.pointId]);
  });
});

describe.skipIf(isRoot)('copy between local and S3 repositories (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
