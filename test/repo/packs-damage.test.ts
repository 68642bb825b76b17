import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { repoDir } from '../engine/backup-helpers.js';
import { sealJson } from '../../dist/repo/sealed-json.js';
import { DB, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

/**
 * Repository v2: every injected damage to a pack or its index is found by check and refused by
 * restore, and a hostile pack index makes restore write nothing outside its target.
 */
let dir: string, cleanBak: string, srcHome: string;
let n = 0;

beforeAll(async () => {
  dir = scratchDir('packs-damage');
  ({ bak: cleanBak, home: srcHome } = await backedUpSource(dir, { repoFormat: 2 }));
});
afterAll(() => rmTmp(dir));

function copy() {
  const root = path.join(dir, `c${n++}`);
  const bak = path.join(root, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  const repo = repoDir(bak, DB);
  const packs = fs.readdirSync(path.join(repo, 'packs')).flatMap((d) => fs.readdirSync(path.join(repo, 'packs', d)).map((f) => path.join(repo, 'packs', d, f)));
  return { root, bak, repo, pack: packs[0]!, target: path.join(root, 'target') };
}
const check = (bak: string, ...more: string[]) => runCli(['check', bak, DB, '--json', ...more]);
const restore = (bak: string, target: string) => runCli(['--home', target, 'restore-db', bak, DB]);
const problems = (out: string) => (JSON.parse(out) as { bad: { problem: string }[] }).bad.map((b) => b.problem);

describe('damage to a v2 repository', () => {
  it('a clean copy checks clean and restores', () => {
    const c = copy();
    expect(check(c.bak).code).toBe(0);
    expect(restore(c.bak, c.target).code).toBe(0);
  });

  it('a flipped byte inside a pack is a checksum problem for check (exit 8) and refused by restore (exit 7)', () => {
    const c = copy();
    const buf = fs.readFileSync(c.pack);
    buf[buf.length >> 1]! ^= 0x01;
    fs.writeFileSync(c.pack, buf);
    const r = check(c.bak);
    expect(r.code).toBe(8);
    expect(problems(r.stdout)).toContain('checksum');
    expect(restore(c.bak, c.target).code).toBe(7);
  });

  it('a truncated pack and an emptied pack are size problems for check and refused by restore', () => {
    for (const size of [100, 0]) {
      const c = copy();
      fs.truncateSync(c.pack, size);
      const r = check(c.bak);
      expect(r.code, `size ${size}`).toBe(8);
      expect(new Set(problems(r.stdout)), `size ${size}`).toEqual(new Set(['size']));
      expect(restore(c.bak, c.target).code, `size ${size}`).toBe(7);
    }
  });

  it('a missing pack is a missing problem for check and refused by restore', () => {
    const c = copy();
    fs.rmSync(c.pack);
    const r = check(c.bak);
    expect(r.code).toBe(8);
    expect(new Set(problems(r.stdout))).toEqual(new Set(['missing']));
    expect(restore(c.bak, c.target).code).toBe(7);
  });

  it('an extra pack and a junk object are listed by check (unreferenced, unexpected) and fail it with --strict', () => {
    const c = copy();
    fs.mkdirSync(path.join(c.repo, 'packs', 'ff'), { recursive: true });
    fs.writeFileSync(path.join(c.repo, 'packs', 'ff', 'ff'.repeat(16)), 'CVPACK\0\0stray');
    fs.writeFileSync(path.join(c.repo, 'index', 'junk'), 'x');
    const r = check(c.bak);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { unreferenced: { path: string }[]; unexpected: { path: string }[] };
    expect(out.unreferenced.map((e) => e.path)).toEqual([`packs/ff/${'ff'.repeat(16)}`]);
    expect(out.unexpected.map((e) => e.path)).toEqual(['index/junk']);
    expect(check(c.bak, '--strict').code).toBe(8);
  });

  it('a no-change backup reads no pack index (it trusts its previous point): with an index emptied it commits, and check still fails', () => {
    const c = copy();
    const ix = path.join(c.repo, 'index', fs.readdirSync(path.join(c.repo, 'index'))[0]!);
    fs.writeFileSync(ix, '');
    const points = () => fs.readdirSync(path.join(c.repo, 'points')).length;
    const before = points();
    const b = runCli(['--home', srcHome, 'backup-db', c.bak, DB, '--json']);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ partitions: 0 });
    expect(points()).toBe(before + 1);
    expect(check(c.bak).code).not.toBe(0);
  });
});

/** Rewrites the first pack index and reseals it as an attacker who knows the format would. */
function editIndex(repo: string, edit: (ix: any) => void): void {
  const dirIx = path.join(repo, 'index');
  const file = path.join(dirIx, fs.readdirSync(dirIx)[0]!);
  const { checksum: _c, ...ix } = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(ix);
  fs.writeFileSync(file, sealJson(ix));
}

const HOSTILE: [string, (ix: any) => void][] = [
  ['an offset past the end', (ix) => (ix.entries[0].files[0].blobs[0].offset = ix.packSize + 10)],
  ['overlapping blobs', (ix) => (ix.entries[0].files[1].blobs[0].offset = ix.entries[0].files[0].blobs[0].offset)],
  ['a huge length', (ix) => (ix.entries[0].files[0].blobs[0].length = 2 ** 40)],
  ['a file name with ..', (ix) => (ix.entries[0].files[0].name = '../../../escape')],
  ['a file name with /', (ix) => (ix.entries[0].files[0].name = 'a/b')],
  ['a pack name with ..', (ix) => (ix.pack = '../../etc')],
];

describe('a hostile pack index', () => {
  for (const [what, edit] of HOSTILE)
    it(`with ${what} is CORRUPT for restore and check, and restore writes nothing outside its target`, () => {
      const c = copy();
      editIndex(c.repo, edit);
      const before = fs.readdirSync(c.root).sort();
      const r = restore(c.bak, c.target);
      expect(r.code, r.stderr).toBe(7);
      expect(r.errLines).toHaveLength(1);
      expect(fs.readdirSync(c.root).sort()).toEqual([...new Set([...before, 'target'])].sort());
      expect(fs.existsSync(path.join(c.target, '..', 'escape'))).toBe(false);
      expect(check(c.bak).code).toBe(7);
    });
});
