import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
let home: string;
const DB = 'dfs://testdb';
type Point = { pointId: string };
type Backup = { pointId: string; partitions: number; unchanged?: true };
type Prune = { removedPoints: string[]; keptPoints: string[]; dryRun: boolean; decisions: { pointId: string; keep: boolean; reasons: string[] }[] };

beforeAll(async () => {
  dir = scratchDir('prune-retention');
  home = path.join(dir, 'home');
  await generateQuotes(home, { dates: 1, symbols: 5, rowsPerSymbol: 20, seed: 1, workers: 1 });
});
afterAll(() => rmTmp(dir));

describe('backup --skip-if-unchanged', () => {
  it('makes no new point when nothing changed, and says which point is current', () => {
    const bak = path.join(dir, 'bak-skip');
    const first = cliJson<Backup>(['--home', home, 'backup-db', bak, DB]);
    const again = cliJson<Backup>(['--home', home, 'backup-db', bak, DB, '--skip-if-unchanged']);
    expect(again).toMatchObject({ pointId: first.pointId, unchanged: true, partitions: 0 });
    expect(cliJson<Point[]>(['points', bak, DB])).toHaveLength(1);
    // Without the flag an unchanged backup still records a point.
    cliJson<Backup>(['--home', home, 'backup-db', bak, DB]);
    expect(cliJson<Point[]>(['points', bak, DB])).toHaveLength(2);
  });
});

describe('prune with retention flags', () => {
  it('--dry-run lists every point with keep or remove and the reason, and deletes nothing', () => {
    const bak = path.join(dir, 'bak-dry');
    for (let i = 0; i < 3; i++) cliJson<Backup>(['--home', home, 'backup-db', bak, DB]);
    const res = cliJson<Prune>(['prune', bak, DB, '--keep-last', '1', '--dry-run']);
    expect(res.dryRun).toBe(true);
    expect(res.removedPoints).toHaveLength(2);
    expect(res.decisions.map((d) => d.reasons[0])).toEqual(['last snapshot', 'no rule keeps it', 'no rule keeps it']);
    expect(cliJson<Point[]>(['points', bak, DB])).toHaveLength(3);
    const text = runCli(['prune', bak, DB, '--keep-last', '1', '--dry-run']);
    expect(text.stdout).toMatch(/remove +no rule keeps it/);
    expect(text.stdout).toMatch(/would remove 2 point\(s\)/);
  });

  it('--keep-daily keeps the newest point of today and removes the older ones of the same day', () => {
    const bak = path.join(dir, 'bak-daily');
    for (let i = 0; i < 3; i++) cliJson<Backup>(['--home', home, 'backup-db', bak, DB]);
    const res = cliJson<Prune>(['prune', bak, DB, '--keep-daily', '7']);
    expect(res.keptPoints).toHaveLength(1);
    expect(cliJson<Point[]>(['points', bak, DB]).map((p) => p.pointId)).toEqual(res.keptPoints);
  });

  it('prune without any keep flag is a usage error and changes nothing', () => {
    const r = runCli(['prune', path.join(dir, 'bak-daily'), DB]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([expect.stringMatching(/^chunkvault: no retention policy/)]);
  });
});
