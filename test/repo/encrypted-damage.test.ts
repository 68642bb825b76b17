import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { smallQuotes } from '../engine/backup-helpers.js';
import { DB, TSDB, tablePaths } from '../engine/helpers-restore.js';
import { Repository } from '../../dist/engine/index.js';

/**
 * A flipped byte in any object of an encrypted repository fails its authentication: CORRUPT
 * (exit 7) for whatever reads it, and a damaged blob is reported by check naming its chunk and is
 * never restored.
 */
let dir: string, home: string, cleanBak: string;
let n = 0;
const PW = { CHUNKVAULT_PASSWORD: 'secret' };

beforeAll(async () => {
  dir = scratchDir('encrypted-damage');
  home = path.join(dir, 'src');
  cleanBak = path.join(dir, 'bak');
  await smallQuotes(home);
  for (const db of [DB, TSDB]) expect(runCli(['--home', home, 'backup-db', cleanBak, db], PW).code).toBe(0);
});
afterAll(() => rmTmp(dir));

const under = (d: string): string[] => (fs.existsSync(d) ? fs.readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)) : []);

/** A copy of the clean backup and its objects by kind. */
function copy() {
  const root = path.join(dir, `c${n++}`);
  const bak = path.join(root, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  const repo = path.join(bak, path.basename(Repository.open(cleanBak, DB, false, undefined, { password: () => PW.CHUNKVAULT_PASSWORD }).dir));
  return { bak, repo, target: path.join(root, 'target'), packs: under(path.join(repo, 'packs')), index: under(path.join(repo, 'index')), points: under(path.join(repo, 'points')) };
}

function flip(file: string, at = -20): void {
  const b = fs.readFileSync(file);
  const i = at < 0 ? b.length + at : at;
  b[i]! ^= 0x10;
  fs.writeFileSync(file, b);
}

const restore = (c: { bak: string; target: string }) => runCli(['--home', c.target, 'restore-db', c.bak, DB], PW);

describe('a flipped byte in an encrypted repository', () => {
  it('inside a pack blob: check names the chunk (exit 8), restore refuses it (exit 7) and commits none of its partitions', () => {
    const c = copy();
    const pack = c.packs.find((p) => fs.statSync(p).size > 100)!;
    flip(pack, 40);
    const r = runCli(['check', c.bak, DB, '--json'], PW);
    expect(r.code).toBe(8);
    const bad = (JSON.parse(r.stdout) as { bad: { chunkPath: string; chunkID: string; problem: string }[] }).bad;
    expect(bad.length).toBeGreaterThan(0);
    expect(bad[0]!.chunkPath).toMatch(/^\/testdb\/Key\d\/tp\/\d{8}\/g[A-Z]$/);
    expect(bad[0]!.problem).toBe('checksum');
    const res = restore(c);
    expect(res.code).toBe(7);
    expect(res.errLines).toHaveLength(1);
    expect(res.stderr).toContain(bad[0]!.chunkPath.split('/').slice(2, -1).join('/'));
    expect(res.stderr).toMatch(/failed authentication/);
    const [, , ...parts] = bad[0]!.chunkPath.split('/');
    const table = { gA: 'quotes', gB: 'quotes_2' }[parts.pop()!]!;
    expect(tablePaths(c.target, DB, table)).not.toContain('/' + parts.join('/'));
  });

  it('in a pack index, a restore point or repo.json: every reader is refused with exit 7', () => {
    for (const pick of [(c: ReturnType<typeof copy>) => c.index[0]!, (c: ReturnType<typeof copy>) => c.points[0]!, (c: ReturnType<typeof copy>) => path.join(c.repo, 'repo.json')]) {
      const c = copy();
      flip(pick(c));
      const what = path.relative(c.repo, pick(c));
      expect(runCli(['check', c.bak, DB], PW).code, `check, ${what}`).toBe(7);
      expect(restore(c).code, `restore, ${what}`).toBe(7);
      // points reads a point's head (its totals say what it stores), never a pack index.
      expect(runCli(['points', c.bak, DB], PW).code, `points, ${what}`).toBe(what.startsWith('index') ? 0 : 7);
    }
  });

  it('in the config or the key file: the directory is refused with exit 7 before anything is read', () => {
    for (const pick of [(bak: string) => path.join(bak, 'config'), (bak: string) => under(path.join(bak, 'keys'))[0]!]) {
      const c = copy();
      flip(pick(c.bak), 30);
      const r = restore(c);
      expect(r.code, path.relative(c.bak, pick(c.bak))).toBe(7);
      expect(r.errLines).toHaveLength(1);
      expect(fs.existsSync(c.target)).toBe(false);
    }
  });

  it('a removed config (key files and repositories left) is refused with exit 7, and a backup writes nothing', () => {
    const c = copy();
    fs.rmSync(path.join(c.bak, 'config'));
    const before = under(c.bak).sort();
    expect(restore(c).code).toBe(7);
    const b = runCli(['--home', home, 'backup-db', c.bak, DB], PW);
    expect(b.code).toBe(7);
    expect(b.errLines).toHaveLength(1);
    expect(under(c.bak).sort()).toEqual(before);
  });

  it("two databases' directories swapped: each is refused with exit 7 (its sealed description names the other)", () => {
    const c = copy();
    const other = fs.readdirSync(c.bak).find((x) => /^[0-9a-f]{32}$/.test(x) && path.join(c.bak, x) !== c.repo)!;
    fs.renameSync(c.repo, path.join(c.bak, 'tmp'));
    fs.renameSync(path.join(c.bak, other), c.repo);
    fs.renameSync(path.join(c.bak, 'tmp'), path.join(c.bak, other));
    expect(restore(c).code).toBe(7);
    expect(runCli(['points', c.bak, TSDB], PW).code).toBe(7);
  });
});
