import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, listPoints, restoreDb } from '../../dist/engine/index.js';
import { Cluster, dropPartition } from '../../dist/store/index.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, sleep } from '../helpers/tmp.js';
import { scratchDir, DB, appendQuote, backedUpSource, digests } from './helpers-restore.js';

let dir: string, src: string, bak: string;
let digestA: Record<string, string>, digestB: Record<string, string>;
let pointA: string, betweenAB: string;

beforeAll(async () => {
  dir = scratchDir('restore-asof');
  ({ home: src, bak } = await backedUpSource(dir)); // point A
  digestA = digests(src);
  await sleep(20);
  betweenAB = new Date().toISOString();
  await sleep(20);
  appendQuote(src, DB, 'quotes', 'S00002');
  dropPartition(new Cluster(src), DB, '/Key0/tp/20120102', 'quotes_2');
  await backup({ home: src, backupDir: bak, dbPath: DB }); // point B
  digestB = digests(src);
  const points = listPoints(bak, DB);
  expect(points).toHaveLength(2);
  pointA = points[0]!.pointId;
});
afterAll(() => rmTmp(dir));

describe('--as-of', () => {
  it('restore-db --as-of an older restore point id reproduces the digest taken at that time', () => {
    expect(digestB).not.toEqual(digestA);
    const home = path.join(dir, 'by-id');
    const r = cliJson<{ pointId: string }>(['--home', home, 'restore-db', bak, DB, '--as-of', pointA]);
    expect(r.pointId).toBe(pointA);
    expect(digests(home)).toEqual(digestA);
  });

  it('--as-of an ISO time picks the latest point taken at or before it', async () => {
    const home = path.join(dir, 'by-time');
    const r = await restoreDb({ home, backupDir: bak, dbPath: DB, asOf: betweenAB });
    expect(r.pointId).toBe(pointA);
    expect(digests(home)).toEqual(digestA);
  });

  it('moving a target from an older point to the latest copies only what changed and deletes what was dropped', async () => {
    const home = path.join(dir, 'forward');
    await restoreDb({ home, backupDir: bak, dbPath: DB, asOf: pointA });
    const r = await restoreDb({ home, backupDir: bak, dbPath: DB });
    expect(r.partitions).toBe(1); // the appended partition of quotes
    expect(r.deleted).toBe(1); // quotes_2's dropped partition
    expect(digests(home)).toEqual(digestB);
    const back = await restoreDb({ home, backupDir: bak, dbPath: DB, asOf: pointA });
    expect(back.partitions).toBe(2);
    expect(digests(home)).toEqual(digestA);
  });

  it('an --as-of time before the first point fails with NOT_FOUND', () => {
    const r = runCli(['--home', path.join(dir, 'none'), 'restore-db', bak, DB, '--as-of', '2000-01-01T00:00:00Z']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.errLines[0]).toMatch(/no restore point .* as of 2000-01-01T00:00:00Z/);
  });
});
