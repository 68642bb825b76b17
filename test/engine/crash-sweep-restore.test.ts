import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster, hasDatabase, isCluster, loadChunks } from '../../dist/store/index.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { countSyncs, rollBack, runCliFaulty, sweepPoints } from '../support/crash.js';
import { DB, digestOf, resetTo, tinyBackedUp } from '../support/sweep-helpers.js';

/**
 * A crash at durability points (fault layer, crashAtSync = K) of a restore into a new home, with
 * what was not yet durable rolled back, must leave every partition of the target either absent or
 * complete as the backup holds it, and a rerun must restore the rest. The store's group commit
 * (renames, the chunk files' temps, the commit record, the change log, the chunk files) comes
 * last in this restore of one group (24 points): the last COMMIT_POINTS points are each tried; before
 * them, the fsyncs of the staged files (one per file under the fault layer, all alike) one in 8,
 * rotating from run to run (sweepPoints).
 */
const COMMIT_POINTS = 28;
const dirs: string[] = [];
afterAll(() => dirs.forEach(rmTmp));

/** A sweep runs the CLI dozens of times: minutes on a loaded 2-core machine. */
const SWEEP_TIMEOUT_MS = 300_000;

/** Rows per (partition path, table) of a database, as its catalog says. */
function rowsOf(home: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of loadChunks(new Cluster(home), DB)) for (const [t, v] of Object.entries(k.tables)) out.set(`${k.path} ${t}`, v.rows);
  return out;
}

for (const format of [2] as const) {
  describe(`a crash at the durability points of a restore from a v${format} repository`, { timeout: SWEEP_TIMEOUT_MS }, () => {
    it('leaves each partition absent or complete, and a rerun restores the whole database', async () => {
      const dir = scratchDir(`crash-restore-v${format}`);
      dirs.push(dir);
      const work = path.join(dir, 'work');
      const snap = path.join(dir, 'snap');
      const faults = path.join(dir, 'faults');
      const { home, bak } = await tinyBackedUp(work, format);
      fs.cpSync(work, snap, { recursive: true });
      const want = digestOf(home, DB);
      const wantRows = rowsOf(home);
      const target = path.join(work, 't');
      const restore = (k?: number) => {
        resetTo(snap, work);
        fs.rmSync(faults, { recursive: true, force: true });
        return runCliFaulty(['--home', target, 'restore-db', bak, DB, '--workers', '1'], { dir: faults, ...(k ? { crashAtSync: k } : {}) });
      };
      const clean = restore();
      expect(clean.code, clean.stderr).toBe(0);
      expect(digestOf(target, DB)).toEqual(want);
      const points = countSyncs(faults);
      expect(points).toBeGreaterThan(COMMIT_POINTS);
      const ks = sweepPoints(`restore crash sweep (v${format})`, points, 8, (k) => k === 1 || k > points - COMMIT_POINTS);
      for (const k of ks) {
        const r = restore(k);
        expect(r.signal, `K=${k}: ${r.stderr}`).toBe('SIGKILL');
        rollBack(faults, [work]);
        if (isCluster(target) && hasDatabase(new Cluster(target), DB)) {
          for (const [p, rows] of rowsOf(target)) expect(rows, `K=${k}: ${p}`).toBe(wantRows.get(p));
        }
        const again = runCliFaulty(['--home', target, 'restore-db', bak, DB, '--workers', '1'], {});
        expect(again.code, `K=${k} rerun: ${again.stderr}`).toBe(0);
        expect(digestOf(target, DB), `K=${k}: after the rerun`).toEqual(want);
      }
    });
  });
}
