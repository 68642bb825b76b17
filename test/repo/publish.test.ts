import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installIoHooks } from '../../dist/common/fsio.js';
import { backup, checkBackup, restoreDb } from '../../dist/engine/index.js';
import { rmTmp } from '../helpers/tmp.js';
import { latestManifest, repoDir } from '../engine/backup-helpers.js';
import { DB, backedUpSource, digests, scratchDir } from '../engine/helpers-restore.js';

/**
 * Issue 9 item 8: a kill in the middle of a --force publish must not leave a restore point without
 * its entry. Publish renames each staged file over its namesake, so every instant is a whole copy.
 */

let dir: string, src: string, cleanBak: string;
let n = 0;

beforeAll(async () => {
  dir = scratchDir('publish');
  ({ home: src, bak: cleanBak } = await backedUpSource(dir));
});
afterAll(() => rmTmp(dir));
afterEach(() => installIoHooks(undefined));

function copy(): string {
  const bak = path.join(dir, `c${n++}`, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  return bak;
}

describe('publishing a --force copy', () => {
  it('killed between the renames of one entry, the previous point still restores to the source digest and checks clean', async () => {
    const bak = copy();
    let renames = 0;
    // The "kill": from the second rename out of a staging directory on, every rename fails, so the
    // lanes still in flight cannot move anything either.
    installIoHooks({
      entry(op, from) {
        if (op === 'rename' && from.includes(`${path.sep}.staging-`) && ++renames >= 2) throw new Error('killed between renames');
      },
    });
    await expect(backup({ home: src, backupDir: bak, dbPath: DB, force: true, workers: 1 })).rejects.toThrow('killed between renames');
    installIoHooks(undefined);
    expect(renames).toBeGreaterThanOrEqual(2);
    const target = path.join(bak, '..', 'target');
    await restoreDb({ home: target, backupDir: bak, dbPath: DB, workers: 1 });
    expect(digests(target)).toEqual(digests(src));
    const r = await checkBackup({ backupDir: bak, dbPath: DB, workers: 1 });
    expect(r.bad).toEqual([]);
  });

  it('a completed --force publish leaves no copy aside and the entry directory in place', async () => {
    const bak = copy();
    await backup({ home: src, backupDir: bak, dbPath: DB, force: true, workers: 1 });
    const r = await checkBackup({ backupDir: bak, dbPath: DB, workers: 1 });
    expect(r.bad).toEqual([]);
    expect(r.unreferenced).toEqual([]);
  });

  it('a copy an older version left aside (.old-<cid>-*, no final directory) is still read by restore and check', async () => {
    const bak = copy();
    const p = latestManifest(bak, DB).partitions[0]!;
    const tableDir = path.join(repoDir(bak, DB), 'data', p.chunkId, 'quotes');
    const cid = p.tables.quotes!.cid;
    fs.renameSync(path.join(tableDir, String(cid)), path.join(tableDir, `.old-${cid}-.staging-${cid}-run1`));
    const r = await checkBackup({ backupDir: bak, dbPath: DB, workers: 1 });
    expect(r.bad).toEqual([]);
    const target = path.join(bak, '..', 'target');
    await restoreDb({ home: target, backupDir: bak, dbPath: DB, workers: 1 });
    expect(digests(target)).toEqual(digests(src));
  });
});
