import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { listPoints, restoreDb } from '../../dist/engine/index.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { countSyncs, rollBack, runCliFaulty, sweepPoints } from '../support/crash.js';
import { DB, digestOf, resetTo } from '../support/sweep-helpers.js';

/**
 * The first backup into a new directory with a password writes, in order, the first key, the
 * config, the database's directory and sealed repo.json, packs, their indexes and the point. A
 * crash at those durability points (each of the first writes, the last three, one in two of the packs between: sweepPoints) (fault layer, crashAtSync = K, what was not durable
 * rolled back) must leave either no restore point or one that restores, and a rerun must
 * initialise or continue the directory and make a point that restores.
 */
let dir: string, work: string, snap: string, source: Record<string, string>;
const PASSWORD = 'crash test';

beforeAll(async () => {
  dir = scratchDir('settings-crash');
  work = path.join(dir, 'work');
  snap = path.join(dir, 'snap');
  await generateQuotes(path.join(work, 'h'), { dates: 2, symbols: 4, rowsPerSymbol: 50, seed: 1, workers: 1 });
  source = digestOf(path.join(work, 'h'), DB);
  fs.cpSync(work, snap, { recursive: true });
});
afterAll(() => rmTmp(dir));

const bak = () => path.join(work, 'bak');
const faultDir = () => path.join(dir, 'faults');
const password = () => PASSWORD;
const args = () => ['--home', path.join(work, 'h'), 'backup', '--workers', '1', bak(), DB];
const env = { CHUNKVAULT_PASSWORD: PASSWORD };

function crashRun(k?: number) {
  resetTo(snap, work);
  fs.rmSync(faultDir(), { recursive: true, force: true });
  return runCliFaulty(args(), { dir: faultDir(), ...(k ? { crashAtSync: k } : {}) }, env);
}

/** The points a reader finds, or none when the crash left no repository of the database. */
function points(): string[] {
  try {
    return listPoints(bak(), DB, password).map((p) => p.pointId);
  } catch (err) {
    if ((err as { code?: string }).code === 'NOT_FOUND') return [];
    throw err;
  }
}

async function restored(): Promise<Record<string, string>> {
  const rhome = path.join(dir, 'r');
  fs.rmSync(rhome, { recursive: true, force: true });
  await restoreDb({ home: rhome, backupDir: bak(), dbPath: DB, workers: 1, password });
  return digestOf(rhome, DB);
}

describe('a crash at each durability point of the first encrypted backup into a new directory', () => {
  it('leaves no point or one that restores, and a rerun makes a point that restores', async () => {
    const clean = crashRun();
    expect(clean.code, clean.stderr).toBe(0);
    const syncs = countSyncs(faultDir());
    expect(syncs).toBeGreaterThan(5);
    for (const k of sweepPoints('encrypted first backup crash sweep', syncs, 2, (k) => k <= 4 || k > syncs - 3)) {
      const r = crashRun(k);
      expect(r.signal, `K=${k}: ${r.stderr}`).toBe('SIGKILL');
      rollBack(faultDir(), [work]);
      const ids = points();
      expect(ids.length, `K=${k}`).toBeLessThanOrEqual(1);
      if (ids.length) expect(await restored(), `K=${k}: the point`).toEqual(source);
      const again = runCliFaulty(args(), {}, env);
      expect(again.code, `K=${k} rerun: ${again.stderr}`).toBe(0);
      expect(points().length, `K=${k} rerun`).toBe(ids.length + 1);
      expect(await restored(), `K=${k} rerun`).toEqual(source);
    }
  }, 600_000);
});
