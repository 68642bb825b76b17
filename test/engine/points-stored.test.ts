import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, listPoints } from '../../dist/engine/index.js';
import { rmTmp } from '../helpers/tmp.js';
import { appendQuote, DB, scratchDir } from './helpers-restore.js';
import { editPoint, repoDir, smallQuotes } from './backup-helpers.js';

/**
 * A v2 point's totals.bytesStored (issue 14, metadata at scale): `points` reads what a point stores
 * from its head instead of summing every entry's blobs from the pack indexes, and a no-change
 * backup carries it forward without reading them. Each test hides the pack indexes where the
 * code must not need them: a sum from them would then come out 0.
 */
let dir: string;
let n = 0;
beforeAll(() => (dir = scratchDir('points-stored')));
afterAll(() => rmTmp(dir));

async function source() {
  const root = path.join(dir, `s${n++}`);
  const home = path.join(root, 'src');
  await smallQuotes(home);
  return { home, bak: path.join(root, 'bak') };
}
const pointFiles = (bak: string) => {
  const d = path.join(repoDir(bak, DB), 'points');
  return fs.readdirSync(d).sort().map((f) => path.join(d, f));
};
const totalsOf = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')).totals as { entries: number; bytes: number; bytesStored?: number };
/** Runs `use` with the repository's pack indexes moved out of its reach. */
async function withoutIndexes<T>(bak: string, use: () => Promise<T> | T): Promise<T> {
  const ix = path.join(repoDir(bak, DB), 'index');
  fs.renameSync(ix, `${ix}.away`);
  try {
    return await use();
  } finally {
    fs.renameSync(`${ix}.away`, ix);
  }
}

describe('bytesStored in a v2 point', () => {
  it('a first backup records what it stored, and points reports it without the pack indexes', async () => {
    const s = await source();
    const r = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2 });
    expect(r.bytesStored).toBeGreaterThan(0);
    expect(r.bytesStored).toBeLessThan(r.bytesCopied); // compressed: the test tells stored from raw
    expect(totalsOf(pointFiles(s.bak)[0]!).bytesStored).toBe(r.bytesStored);
    const [p] = await withoutIndexes(s.bak, () => listPoints(s.bak, DB));
    expect(p!.bytesStored).toBe(r.bytesStored);
  });

  it('a no-change backup carries the previous bytesStored without reading the pack indexes', async () => {
    const s = await source();
    const first = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2 });
    const again = await withoutIndexes(s.bak, () => backup({ home: s.home, backupDir: s.bak, dbPath: DB }));
    expect(again.partitions).toBe(0);
    expect(totalsOf(pointFiles(s.bak)[1]!).bytesStored).toBe(first.bytesStored);
  });

  it('a backup that changed a partition sums every entry from the indexes, as points does for a point without bytesStored', async () => {
    const s = await source();
    const first = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2 });
    appendQuote(s.home, DB, 'quotes', 'S0001');
    const second = await backup({ home: s.home, backupDir: s.bak, dbPath: DB });
    expect(second.partitions).toBe(1);
    const file = pointFiles(s.bak)[1]!;
    const recorded = totalsOf(file).bytesStored!;
    expect(recorded).toBeGreaterThan(first.bytesStored);
    editPoint(file, (m) => delete m.totals.bytesStored, true);
    expect(listPoints(s.bak, DB)[1]!.bytesStored).toBe(recorded);
  });
});
