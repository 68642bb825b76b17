import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../dist/engine/index.js';
import { Repository } from '../../dist/repo/repository.js';
import type { ManifestPartition } from '../../dist/repo/manifest.js';
import { rmTmp } from '../helpers/tmp.js';
import { repoDir } from '../engine/backup-helpers.js';
import { DB, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

describe('a v2 restore point read a partition at a time', () => {
  let dir: string, bak: string, home: string;
  beforeAll(async () => {
    dir = scratchDir('packed-scan');
    ({ home, bak } = await backedUpSource(dir, { repoFormat: 2 }));
  });
  afterAll(() => rmTmp(dir));

  it('hands each partition with its line, the compact JSON of that partition', () => {
    const repo = Repository.open(bak, DB, false);
    const seen: { p: ManifestPartition; line: string | undefined }[] = [];
    const head = repo.scanPoint(undefined, (p, line) => seen.push({ p, line: line?.toString('utf8') }));
    const whole = repo.point();
    expect(head.pointId).toBe(whole.pointId);
    expect(seen.map((s) => s.p)).toEqual(whole.partitions);
    for (const s of seen) expect(JSON.parse(s.line!)).toEqual(JSON.parse(JSON.stringify(s.p)));
  });

  it('an --as-of time picks the latest point created at or before it, and a time before the first is NOT_FOUND', async () => {
    const first = Repository.open(bak, DB, false).point();
    await new Promise((r) => setTimeout(r, 5));
    await backup({ home, backupDir: bak, dbPath: DB });
    const repo = Repository.open(bak, DB, false);
    expect(repo.points()).toHaveLength(2);
    expect(repo.scanPoint(first.created, () => undefined).pointId).toBe(first.pointId);
    expect(repo.scanPoint(undefined).pointId).not.toBe(first.pointId);
    expect(() => repo.scanPoint(new Date(Date.parse(first.created) - 1000).toISOString())).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('refuses a point whose partition was changed: CORRUPT, and nothing is handed out as believed', () => {
    const points = path.join(repoDir(bak, DB), 'points');
    const file = path.join(points, fs.readdirSync(points).sort().at(-1)!); // the latest: the one a scan without --as-of reads
    const saved = fs.readFileSync(file);
    try {
      fs.writeFileSync(file, saved.toString('utf8').replace('"rows":', '"rows":1'));
      expect(() => Repository.open(bak, DB, false).scanPoint(undefined, () => undefined)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    } finally {
      fs.writeFileSync(file, saved);
    }
  });
});
