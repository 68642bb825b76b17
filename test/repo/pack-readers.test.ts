import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { repoDir } from '../engine/backup-helpers.js';
import { sealJson } from '../../dist/repo/sealed-json.js';
import { packHeader, packObject } from '../../dist/repo/pack-format.js';
import { DB, backedUpSource, digests, scratchDir } from '../engine/helpers-restore.js';

/**
 * Foreign blobs (dedup) on hand-made indexes: every entry of the backup's pack is moved into the
 * index of a new, empty pack, its blobs naming the old pack, whose own index then lists nothing.
 * Restore, check, prune and copy must read through the reference, and a hostile reference must be
 * CORRUPT or missing, never read outside the repository.
 */
let dir: string, home: string, cleanBak: string;
let n = 0;
const NEW = 'ab'.repeat(16);

beforeAll(async () => {
  dir = scratchDir('pack-readers');
  ({ home, bak: cleanBak } = await backedUpSource(dir, { repoFormat: 2 }));
});
afterAll(() => rmTmp(dir));

const readIx = (file: string) => {
  const { checksum: _c, ...ix } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return ix;
};

/** A copy of the backup whose first pack's entries all live, as foreign blobs, in the index of pack NEW. */
function foreignCopy(edit: (ix: any) => void = () => {}) {
  const root = path.join(dir, `c${n++}`);
  const bak = path.join(root, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  const repo = repoDir(bak, DB);
  const old = fs.readdirSync(path.join(repo, 'index')).sort()[0]!;
  const ix = readIx(path.join(repo, 'index', old));
  const moved = { format: 2, pack: NEW, packSize: 16, entries: ix.entries.map((e: any) => ({ ...e, files: e.files.map((f: any) => ({ ...f, blobs: f.blobs.map((b: any) => ({ ...b, pack: old })) })) })) };
  edit(moved);
  fs.writeFileSync(path.join(repo, 'index', old), sealJson({ ...ix, entries: [] }));
  fs.mkdirSync(path.join(repo, path.dirname(packObject(NEW))), { recursive: true });
  fs.writeFileSync(path.join(repo, packObject(NEW)), packHeader());
  fs.writeFileSync(path.join(repo, 'index', NEW), sealJson(moved));
  return { root, bak, repo, old, target: path.join(root, 'target') };
}
const check = (bak: string) => runCli(['check', bak, DB, '--json']);
const restore = (bak: string, target: string) => runCli(['--home', target, 'restore-db', bak, DB]);

describe('foreign blobs in a pack index', () => {
  it('restore reads them from the pack they name, and the tables come back byte-identical', () => {
    const c = foreignCopy();
    const r = restore(c.bak, c.target);
    expect(r.code, r.stderr).toBe(0);
    expect(digests(c.target)).toEqual(digests(home));
  });

  it('check verifies them and does not list a pack only foreign blobs name as unreferenced', () => {
    const c = foreignCopy();
    const r = check(c.bak);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { files: number; unreferenced: { path: string }[] };
    expect(out.unreferenced).toEqual([]);
  });

  it('prune keeps a pack only foreign blobs name, whole, even with --max-unused 0', () => {
    const c = foreignCopy();
    const before = fs.readFileSync(path.join(c.repo, packObject(c.old)));
    const r = runCli(['prune', '--keep-last', '1', '--max-unused', '0', c.bak, DB]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(c.repo, packObject(c.old)))).toEqual(before);
    expect(restore(c.bak, c.target).code).toBe(0);
    expect(digests(c.target)).toEqual(digests(home));
  });

  it('a verbatim copy takes the foreign pack along, and a recoded copy inlines the foreign blobs', () => {
    const c = foreignCopy();
    const same = path.join(c.root, 'same');
    expect(runCli(['copy', c.bak, same, DB]).code).toBe(0);
    const sameRepo = repoDir(same, DB);
    expect(fs.existsSync(path.join(sameRepo, packObject(c.old)))).toBe(true);
    expect(restore(same, path.join(c.root, 't1')).code).toBe(0);
    expect(digests(path.join(c.root, 't1'))).toEqual(digests(home));

    const other = path.join(c.root, 'other');
    const pw = { CHUNKVAULT_TO_PASSWORD: 'pw-dedup' };
    expect(runCli(['copy', c.bak, other, DB], pw).code).toBe(0);
    const r = runCli(['--home', path.join(c.root, 't2'), 'restore-db', other, DB], { CHUNKVAULT_PASSWORD: 'pw-dedup' });
    expect(r.code, r.stderr).toBe(0);
    expect(digests(path.join(c.root, 't2'))).toEqual(digests(home));
    expect(runCli(['check', other, DB], { CHUNKVAULT_PASSWORD: 'pw-dedup' }).code).toBe(0);
  });
});

const HOSTILE: [string, (ix: any) => void][] = [
  ['a pack id with ..', (ix) => (ix.entries[0].files[0].blobs[0].pack = '../../../etc/passwd')],
  ['its own pack id', (ix) => (ix.entries[0].files[0].blobs[0].pack = NEW)],
  ['format 1', (ix) => (ix.format = 1)],
  ['an offset past the end of the foreign pack', (ix) => (ix.entries[0].files[0].blobs[0].offset = 1 << 20)],
  ['an offset inside the foreign pack header', (ix) => (ix.entries[0].files[0].blobs[0].offset = 0)],
  ['a huge length', (ix) => (ix.entries[0].files[0].blobs[0].length = 2 ** 40)],
  ['a pack no index names', (ix) => (ix.entries[0].files[0].blobs[0].pack = 'cd'.repeat(16))],
];

describe('a hostile foreign blob', () => {
  for (const [what, edit] of HOSTILE)
    it(`with ${what} is refused by restore (exit 7), found by check, and nothing is written outside the target`, () => {
      const c = foreignCopy(edit);
      const before = fs.readdirSync(c.root).sort();
      const r = restore(c.bak, c.target);
      expect(r.code, r.stderr).toBe(7);
      expect(r.errLines).toHaveLength(1);
      expect(fs.readdirSync(c.root).sort()).toEqual([...new Set([...before, 'target'])].sort());
      expect([7, 8]).toContain(check(c.bak).code);
    });

  it('whose foreign pack is missing is a missing problem for check and refused by restore', () => {
    const c = foreignCopy();
    fs.rmSync(path.join(c.repo, packObject(c.old)));
    const r = check(c.bak);
    expect(r.code).toBe(8);
    expect(new Set((JSON.parse(r.stdout) as { bad: { problem: string }[] }).bad.map((b) => b.problem))).toEqual(new Set(['missing']));
    expect(restore(c.bak, c.target).code).toBe(7);
  });
});
