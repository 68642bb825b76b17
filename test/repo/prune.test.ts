import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../dist/engine/index.js';
import { Repository } from '../../dist/repo/repository.js';
import type { PrunePlan } from '../../dist/repo/prune.js';
import { listFiles, rmTmp } from '../helpers/tmp.js';
import { DB, appendQuote, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

let dir: string, src: string, bak: string;
beforeAll(async () => {
  dir = scratchDir('repo-prune');
  ({ home: src, bak } = await backedUpSource(dir));
  appendQuote(src, DB, 'quotes', 'S00003');
  await backup({ home: src, backupDir: bak, dbPath: DB });
});
afterAll(() => rmTmp(dir));

describe('prune as plan, then execute', () => {
  it('planning changes nothing in the repository and names the old point and only the data it alone held', () => {
    const repo = Repository.open(bak, DB, false);
    const before = listFiles(repo.dir);
    const [oldId, newId] = repo.points();
    const plan = repo.planPrune(1) as PrunePlan; // a v1 repository (backedUpSource)
    expect(listFiles(repo.dir)).toEqual(before);
    expect(plan.removedPoints).toEqual([oldId]);
    expect(plan.keptPoints).toEqual([newId]);
    // The append changed one partition of quotes: only its old version is unreferenced.
    expect(plan.dataDirs).toHaveLength(1);
    expect(plan.dataDirs[0]![2]).toBe('quotes');
  });

  it('executing the plan removes exactly what it names and the kept point still reads', () => {
    const repo = Repository.open(bak, DB, false);
    const plan = repo.planPrune(1) as PrunePlan; // a v1 repository (backedUpSource)
    repo.executePrune(plan);
    expect(repo.points()).toEqual(plan.keptPoints);
    for (const rel of plan.dataDirs) expect(fs.existsSync(path.join(repo.dir, ...rel))).toBe(false);
    const m = repo.point();
    for (const p of m.partitions) for (const [t, e] of Object.entries(p.tables)) expect(repo.hasData(p.chunkId, t, e.cid)).toBe(true);
  });
});
