import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository } from '../../dist/repo/repository.js';
import type { ManifestPartition } from '../../dist/repo/manifest.js';
import { rmTmp } from '../helpers/tmp.js';
import { repoDir } from '../engine/backup-helpers.js';
import { DB, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

describe('a v2 restore point read a partition at a time', () => {
  let dir: string, bak: string;
  beforeAll(async () => {
    dir = scratchDir('packed-scan');
    ({ bak } = await backedUpSource(dir, { repoFormat: 2 }));
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

  it('refuses a point whose partition was changed: CORRUPT, and nothing is handed out as believed', () => {
    const points = path.join(repoDir(bak, DB), 'points');
    const file = path.join(points, fs.readdirSync(points)[0]!);
    const saved = fs.readFileSync(file);
    try {
      fs.writeFileSync(file, saved.toString('utf8').replace('"rows":', '"rows":1'));
      expect(() => Repository.open(bak, DB, false).scanPoint(undefined, () => undefined)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    } finally {
      fs.writeFileSync(file, saved);
    }
  });
});
