import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../dist/engine/restore-group.js';
import { append, loadChunks, stageVersion } from '../../dist/store/index.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

/** One partition of 20 rows and a stage holding a copy of its current files. */
function setup() {
  home = tmpDir('restore-group');
  const { c, db } = makeTradesDb(path.join(home, 'h'));
  append(c, db, 'trades', tradeRows(20, ['IBM'], [D20120101]));
  const k = loadChunks(c, db)[0]!;
  const v = k.tables.trades!;
  const stage = stageVersion(c, db, k, 'trades');
  fs.cpSync(path.join(c.chunkDir(k, db), v.version), stage.dir, { recursive: true });
  return { c, db, cid: v.cid, item: { stage, staged: { rows: v.rows, files: v.files } } };
}

const limits = { entries: 10, bytes: 1 << 30, ms: 60_000 };

describe('GroupCommitter', () => {
  it('commits no group before its ready promise resolves', async () => {
    const { c, db, cid, item } = setup();
    let open!: () => void;
    const ready = new Promise<void>((resolve) => (open = resolve));
    const settled: string[] = [];
    const group = new GroupCommitter<string>(c, db, limits, ready, (jobs, err) => settled.push(...jobs.map((j) => `${j}:${err === undefined ? 'ok' : 'failed'}`)));
    group.add('p1', item, 1);
    const flushed = group.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual([]);
    expect(loadChunks(c, db)[0]!.tables.trades!.cid).toBe(cid);
    open();
    await flushed;
    expect(settled).toEqual(['p1:ok']);
    expect(loadChunks(c, db)[0]!.tables.trades!.cid).toBeGreaterThan(cid);
  });

  it('fails every group with the ready promise\'s error and removes their stages', async () => {
    const { c, db, cid, item } = setup();
    const failures: unknown[] = [];
    const group = new GroupCommitter<string>(c, db, limits, Promise.reject(new Error('directory sync failed')), (_jobs, err) => failures.push(err));
    group.add('p1', item, 1);
    await group.flush();
    expect(failures.map((e) => (e as Error).message)).toEqual(['directory sync failed']);
    expect(fs.existsSync(item.stage.dir)).toBe(false);
    expect(loadChunks(c, db)[0]!.tables.trades!.cid).toBe(cid);
  });
});
