import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, listPoints, restoreDb } from '../../dist/engine/index.js';
import { Cluster, databaseDigest } from '../../dist/store/index.js';
import { CLI, cliJson } from '../helpers/cli.js';
import { waitExit } from '../helpers/child.js';
import { listFiles, rmTmp, sleep } from '../helpers/tmp.js';
import { scratchDir, DB, appendQuote, backedUpSource } from './helpers-restore.js';

/**
 * Restore commits copied partitions in groups (engine/restore-group.ts, one commit record per
 * group). A real kill -9 at random moments of a restore that replaces every partition of a
 * target must leave each (partition, table) entirely old or entirely new, and a rerun must finish.
 */
let dir: string, bak: string, pointA: string;
const TABLES = ['quotes', 'quotes_2'];
const RATE = '100KB';
let digestA: Map<string, string>, digestB: Map<string, string>;

/** "<table> <path>" -> content digest of that table's data in the partition. */
function partitionDigests(home: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of databaseDigest(new Cluster(home), DB)) for (const p of t.partitions) out.set(`${t.table} ${p.path}`, `${p.rows} ${JSON.stringify(p.columns)}`);
  return out;
}

beforeAll(async () => {
  dir = scratchDir('restore-group-kill');
  let src: string;
  ({ home: src, bak } = await backedUpSource(dir)); // point A
  const homeA = path.join(dir, 'a');
  await restoreDb({ home: homeA, backupDir: bak, dbPath: DB });
  digestA = partitionDigests(homeA);
  pointA = listPoints(bak, DB)[0]!.pointId;
  // One more row in every partition of both tables: point B differs from A everywhere.
  for (const t of TABLES) for (let s = 0; s < 20; s++) for (const day of [1, 2]) appendQuote(src, DB, t, `S${String(s).padStart(5, '0')}`, day);
  await backup({ home: src, backupDir: bak, dbPath: DB }); // point B
  digestB = partitionDigests(src);
}, 120_000);
afterAll(() => rmTmp(dir));

describe('a kill -9 of a restore that commits in groups', () => {
  it('leaves each partition entirely old or entirely new at any moment, and a rerun restores the rest', async () => {
    expect(digestA.size).toBe(20);
    for (const [k, d] of digestA) expect(digestB.get(k), k).not.toBe(d);
    const mixed = { old: 0, new: 0 };
    // One run to the end gives the window in which the kills land at random.
    const full = path.join(dir, 'full');
    await restoreDb({ home: full, backupDir: bak, dbPath: DB, asOf: pointA });
    const started = Date.now();
    await waitExit(spawn(process.execPath, [CLI, '--home', full, 'restore-db', bak, DB, '--max-rate', RATE], { stdio: 'ignore' }));
    const window = Date.now() - started;
    for (let run = 0; run < 6; run++) {
      const home = path.join(dir, `t${run}`);
      // The catalog names its volumes by absolute path: each target is restored, not copied.
      await restoreDb({ home, backupDir: bak, dbPath: DB, asOf: pointA });
      // Throttled so that the 1 s group timer commits several groups during the run.
      const child = spawn(process.execPath, [CLI, '--home', home, 'restore-db', bak, DB, '--max-rate', RATE], { stdio: 'ignore' });
      await sleep(Math.floor(window * (0.1 + 0.85 * Math.random())));
      child.kill('SIGKILL');
      await waitExit(child);
      const now = partitionDigests(home);
      expect([...now.keys()].sort(), `run ${run}`).toEqual([...digestA.keys()].sort());
      for (const [k, d] of now) {
        expect([digestA.get(k), digestB.get(k)], `run ${run}: ${k} is neither old nor new`).toContain(d);
        if (d === digestA.get(k)) mixed.old++;
        else mixed.new++;
      }
      const r = cliJson<{ partitions: number; skipped: number }>(['--home', home, 'restore-db', bak, DB]);
      expect(r.partitions + r.skipped, `run ${run}`).toBe(20);
      expect(partitionDigests(home), `run ${run}: after the rerun`).toEqual(digestB);
      expect(listFiles(path.join(home, 'volumes')).filter((f) => f.includes('_tid_')), `run ${run}: staging left`).toEqual([]);
    }
    console.log(`restore group kill: a run takes ${window} ms; partitions found old ${mixed.old}, new ${mixed.new} across 6 kills`);
  }, 180_000);
});
