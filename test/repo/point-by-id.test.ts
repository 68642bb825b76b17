import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../dist/engine/index.js';
import { Repository } from '../../dist/repo/repository.js';
import type { ManifestPartition } from '../../dist/repo/manifest.js';
import { rmTmp } from '../helpers/tmp.js';
import { DB, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmTmp(d)));

describe.each([1, 2] as const)('Repository.scanPointId (v%i)', (repoFormat) => {
  it('reads the point it names, not the one a later backup made the latest', async () => {
    const dir = scratchDir(`point-by-id-${repoFormat}`);
    dirs.push(dir);
    const { home, bak } = await backedUpSource(dir, { repoFormat });
    const first = Repository.open(bak, DB, false).scanPoint(undefined);
    await new Promise((r) => setTimeout(r, 5));
    await backup({ home, backupDir: bak, dbPath: DB });
    const repo = Repository.open(bak, DB, false);
    expect(repo.scanPoint(undefined).pointId).not.toBe(first.pointId);
    const seen: ManifestPartition[] = [];
    const head = repo.scanPointId(first.pointId, (p) => seen.push(p));
    expect(head.pointId).toBe(first.pointId);
    expect(seen.length).toBe(first.totals!.partitions);
  });
});
