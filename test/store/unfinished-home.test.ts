import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initCluster, isCluster, isUnfinishedHome } from '../../dist/store/index.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const dir = scratchDir('unfinished-home');
afterAll(() => rmTmp(dir));

/** A home as a kill inside initCluster leaves it: the layout directories, and maybe cluster.json's temp file. */
function killedHome(name: string, extra?: string): string {
  const home = path.join(dir, name);
  for (const d of ['volumes/node1/vol0', 'catalog', 'pins', 'jobs', 'batchJobs']) fs.mkdirSync(path.join(home, d), { recursive: true });
  if (extra) fs.writeFileSync(path.join(home, extra), '{"form');
  return home;
}

describe('a home whose initCluster was killed', () => {
  it('is unfinished while it holds only the layout directories and the temp file of cluster.json, and init finishes it without that temp', () => {
    const home = killedHome('temp', '.cluster.json.tmp-123-abcd0123');
    expect(isUnfinishedHome(home)).toBe(true);
    initCluster(home, {});
    expect(isCluster(home)).toBe(true);
    expect(fs.readdirSync(home).filter((e) => e.startsWith('.cluster.json.tmp-'))).toEqual([]);
  });

  it('is not unfinished when it holds any other file', () => {
    expect(isUnfinishedHome(killedHome('other', 'notes.txt'))).toBe(false);
  });
});
