import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backup, restoreDb } from '../../dist/engine/index.js';
import { Cluster, initCluster, readTable, valueAt } from '../../dist/store/index.js';
import { spawnStoreScript, waitExit } from '../helpers/child.js';
import { makeTradesDb } from '../helpers/store.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string | undefined;
afterAll(() => rmTmp(dir));

/**
 * Appends up to 300 batches, 2 ms apart, until killed. Batch k adds a new date (a new VALUE partition) and a new
 * symbol, and its qty values are k*20 .. k*20+19, so any state of the table is the batches 0..n-1.
 */
const WRITER = `
const [home, db] = process.argv.slice(1);
const c = new store.Cluster(home);
const nap = new Int32Array(new SharedArrayBuffer(4));
for (let k = 0; k < 300; k++) {
  const rows = { time: [], symbol: [], price: [], qty: [] };
  for (let i = 0; i < 20; i++) {
    rows.time.push((15341 + k) * 86400000 + i * 1000);
    rows.symbol.push(i % 2 ? 'S' + k : 'IBM');
    rows.price.push(1);
    rows.qty.push(k * 20 + i);
  }
  store.append(c, db, 'trades', rows);
  if (k === 0) console.log('started');
  Atomics.wait(nap, 0, 0, 2);
}
`;

describe('backups while a writer adds partitions', () => {
  it('every restore point restores, and holds exactly the batches committed before its pin', async () => {
    dir = scratchDir('cwrite');
    const { c, db } = makeTradesDb(path.join(dir, 'src'));
    const bak = path.join(dir, 'bak');
    const writer = spawnStoreScript(WRITER, [c.home, db]);
    let stderr = '';
    writer.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve()));
    const points: string[] = [];
    try {
      for (let i = 0; i < 25; i++) points.push((await backup({ home: c.home, backupDir: bak, dbPath: db, workers: 1 })).pointId);
    } finally {
      writer.kill('SIGKILL');
      await waitExit(writer);
    }
    expect(stderr).toBe('');

    const seen = new Set<number>();
    for (const [i, pointId] of points.entries()) {
      const home = path.join(dir, `r${i}`);
      initCluster(home);
      await restoreDb({ home, backupDir: bak, dbPath: db, asOf: pointId, workers: 1 });
      const { rows, cols } = readTable(new Cluster(home), db, 'trades');
      const qty = Array.from({ length: rows }, (_, j) => Number(valueAt(cols.qty!, j))).sort((a, b) => a - b);
      // A consistent snapshot of an append-only writer is a prefix of its batches.
      expect(qty).toEqual(Array.from({ length: rows }, (_, j) => j));
      expect(rows % 20).toBe(0);
      seen.add(rows);
    }
    // The writer really ran during the backups: the points hold different amounts of data.
    expect(seen.size).toBeGreaterThan(1);
  });
});
