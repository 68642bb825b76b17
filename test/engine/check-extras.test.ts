import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../dist/engine/index.js';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { latestManifest, repoDir } from './backup-helpers.js';
import { DB, backedUpSource, scratchDir } from './helpers-restore.js';

/** Issue 9 item 7: check lists what no restore point explains; --strict turns it into exit 8. */

let dir: string, cleanBak: string;
let n = 0;

beforeAll(async () => {
  dir = scratchDir('check-extras');
  ({ bak: cleanBak } = await backedUpSource(dir));
});
afterAll(() => rmTmp(dir));

function copy(): { bak: string; repo: string; entryDir: string; entryRel: string } {
  const bak = path.join(dir, `c${n++}`, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  const p = latestManifest(bak, DB).partitions[0]!;
  const entryRel = `data/${p.chunkId}/quotes/${p.tables.quotes!.cid}`;
  return { bak, repo: repoDir(bak, DB), entryDir: path.join(repoDir(bak, DB), entryRel), entryRel };
}

function check(bak: string, ...extra: string[]): { code: number | null; r: CheckResult; text: string } {
  const res = runCli(['check', bak, DB, ...extra, '--json']);
  const text = runCli(['check', bak, DB, ...extra]).stdout;
  return { code: res.code, r: JSON.parse(res.stdout) as CheckResult, text };
}

const UNKNOWN = '0b0b0b0b-0000-4000-8000-000000000000';

describe('check reports entries no restore point explains', () => {
  it('a clean repository has no unexpected or unreferenced entries, and --strict exits 0', () => {
    const { code, r } = check(cleanBak, '--strict');
    expect(code).toBe(0);
    expect(r.unexpected).toEqual([]);
    expect(r.unreferenced).toEqual([]);
  });

  it('an extra file in an entry directory, junk in data/ and points/, a link in data/ and a junk file at the top are unexpected', () => {
    const s = copy();
    fs.writeFileSync(path.join(s.entryDir, 'extra.col'), 'x');
    fs.writeFileSync(path.join(s.repo, 'data', 'junk.txt'), 'x');
    fs.mkdirSync(path.join(s.repo, 'points', 'junkdir'));
    fs.writeFileSync(path.join(s.repo, 'notes.txt'), 'x');
    fs.symlinkSync('/etc', path.join(s.repo, 'data', 'link'));
    const { code, r, text } = check(s.bak);
    expect(code).toBe(0);
    expect(r.bad).toEqual([]);
    expect(r.unexpected).toEqual(
      expect.arrayContaining([
        { path: `${s.entryRel}/extra.col`, kind: 'file' },
        { path: 'data/junk.txt', kind: 'file' },
        { path: 'data/link', kind: 'symlink' },
        { path: 'points/junkdir', kind: 'directory' },
        { path: 'notes.txt', kind: 'file' },
      ]),
    );
    expect(r.unexpected).toHaveLength(5);
    expect(text).toContain(`unexpected: ${s.entryRel}/extra.col (file)\n`);
  });

  it('unexpected entries in data/ are all found when its listing takes more than one batch', () => {
    const s = copy();
    for (let i = 0; i < 600; i++) fs.writeFileSync(path.join(s.repo, 'data', `junk${i}`), 'x');
    const { r } = check(s.bak);
    expect(r.unexpected).toHaveLength(600);
    expect(new Set(r.unexpected.map((e) => e.path))).toEqual(new Set(Array.from({ length: 600 }, (_, i) => `data/junk${i}`)));
  });

  it('an unknown data/<uuid> and an unreferenced cid are unreferenced', () => {
    const s = copy();
    fs.mkdirSync(path.join(s.repo, 'data', UNKNOWN, 'quotes', '3'), { recursive: true });
    const stray = `${path.dirname(s.entryRel)}/99999`;
    fs.mkdirSync(path.join(s.repo, stray));
    const { code, r, text } = check(s.bak);
    expect(code).toBe(0);
    expect(r.unreferenced).toEqual(expect.arrayContaining([{ path: `data/${UNKNOWN}`, kind: 'directory' }, { path: stray, kind: 'directory' }]));
    expect(r.unreferenced).toHaveLength(2);
    expect(text).toContain(`unreferenced: data/${UNKNOWN} (directory)\n`);
  });

  it('--strict exits 8 when anything unexpected or unreferenced is found, and still prints no bad chunks', () => {
    const s = copy();
    fs.writeFileSync(path.join(s.repo, 'points', 'README'), 'x');
    expect(check(s.bak).code).toBe(0);
    const { code, r } = check(s.bak, '--strict');
    expect(code).toBe(8);
    expect(r.bad).toEqual([]);
    expect(r.unexpected).toEqual([{ path: 'points/README', kind: 'file' }]);
  });
});
