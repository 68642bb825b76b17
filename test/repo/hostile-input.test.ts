import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { editPoint, latestManifest, repoDir } from '../engine/backup-helpers.js';
import { sealJson } from '../../dist/repo/sealed-json.js';
import { DB, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

/** Issue 9 item 6: malformed repository content maps to a documented exit code, never 1. */

let dir: string, src: string, cleanBak: string;
let n = 0;

beforeAll(async () => {
  dir = scratchDir('hostile-input');
  ({ home: src, bak: cleanBak } = await backedUpSource(dir));
});
afterAll(() => rmTmp(dir));

function copy(): { bak: string; repo: string; pointFile: string; target: string } {
  const root = path.join(dir, `c${n++}`);
  const bak = path.join(root, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  const m = latestManifest(bak, DB);
  return { bak, repo: repoDir(bak, DB), pointFile: path.join(repoDir(bak, DB), 'points', `${m.pointId}.json`), target: path.join(root, 'target') };
}

/**
 * Rewrites the manifest's JSON text, so keys like __proto__ land in the file as written, and
 * recomputes its checksum as an attacker who knows the format would.
 */
function editManifestText(file: string, edit: (text: string) => string): void {
  const { checksum: _c, ...m } = JSON.parse(edit(fs.readFileSync(file, 'utf8')));
  fs.writeFileSync(file, sealJson(m));
}

const READERS = (bak: string, target: string) => [
  ['--home', target, 'restore-db', bak, DB],
  ['list', bak, DB, 'quotes'],
  ['check', bak, DB],
  ['points', bak, DB],
];

describe('hostile input in a repository', () => {
  it.each(['__proto__', 'constructor'])('a manifest table named %s is CORRUPT (7) for every reader, never an internal error', (name) => {
    const s = copy();
    // Rename quotes_2 everywhere in the manifest: in tables, its own name field and every partition.
    editManifestText(s.pointFile, (t) => t.replaceAll('"quotes_2"', JSON.stringify(name)));
    for (const args of READERS(s.bak, s.target)) {
      const r = runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(7);
      expect(r.errLines).toEqual([expect.stringMatching(new RegExp(`reserved table name "${name}"`))]);
    }
  });

  it('a partition naming table constructor that the manifest does not define is CORRUPT (7)', () => {
    const s = copy();
    editPoint(s.pointFile, (m) => (m.partitions[0].tables.constructor = m.partitions[0].tables.quotes), true);
    const r = runCli(['list', s.bak, DB, 'quotes']);
    expect(r.code, r.stderr).toBe(7);
  });

  it('asking a clean repository for table constructor or __proto__ is NOT_FOUND (3)', () => {
    for (const t of ['constructor', '__proto__', 'toString']) {
      const r = runCli(['list', cleanBak, DB, t]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.errLines).toHaveLength(1);
    }
  });

  it('a manifest with null where an entry belongs is CORRUPT (7), not an internal error', () => {
    const s = copy();
    editPoint(s.pointFile, (m) => (m.partitions[0].tables.quotes = null), true);
    const r = runCli(['list', s.bak, DB, 'quotes']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines[0]).toMatch(/is malformed/);
  });

  it.each([
    ['not JSON', '{"format":1,"dbPath":"dfs://te'],
    ['JSON without a dbPath', '{"format":1}'],
    ['JSON null', 'null'],
  ])('a damaged repo.json (%s) is CORRUPT (7) for backup and for readers', (_what, text) => {
    const s = copy();
    fs.writeFileSync(path.join(s.repo, 'repo.json'), text);
    for (const args of [['--home', src, 'backup', s.bak, DB], ...READERS(s.bak, s.target)]) {
      const r = runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(7);
      expect(r.errLines).toHaveLength(1);
    }
  });

  it('a lock that is a directory is CORRUPT (7) with one line, and the directory is left in place', () => {
    const s = copy();
    fs.mkdirSync(path.join(s.repo, 'lock', 'inside'), { recursive: true });
    const r = runCli(['--home', src, 'backup', s.bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines).toEqual([expect.stringMatching(/expected a regular file in the backup, found a directory: .*lock$/)]);
    expect(fs.statSync(path.join(s.repo, 'lock', 'inside')).isDirectory()).toBe(true);
  });

  it.each(['lock', 'repo.json', 'journal/x.jsonl'])('a FIFO as %s is CORRUPT (7) at once, not a hang', (rel) => {
    const s = copy();
    fs.mkdirSync(path.dirname(path.join(s.repo, rel)), { recursive: true });
    fs.rmSync(path.join(s.repo, rel), { force: true });
    execFileSync('mkfifo', [path.join(s.repo, rel)]);
    const t = Date.now();
    const r = runCli(['--home', src, 'backup', s.bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines).toEqual([expect.stringMatching(/found a fifo/)]);
    expect(Date.now() - t).toBeLessThan(15_000);
  });

  it('a journal record of the wrong shape is not believed: the entry is copied again and the new point is readable', () => {
    const s = copy();
    const m = latestManifest(s.bak, DB);
    const p = m.partitions[0]!;
    const key = `${p.chunkId}/quotes/${p.tables.quotes!.cid}`;
    fs.mkdirSync(path.join(s.repo, 'journal'), { recursive: true });
    fs.writeFileSync(path.join(s.repo, 'journal', 'old-run.jsonl'), JSON.stringify({ key, entry: { cid: 'x', files: null } }) + '\n');
    // Drop the entry from the point, so only the bad journal line could vouch for it.
    delete (p.tables as Record<string, unknown>).quotes;
    fs.writeFileSync(s.pointFile, sealJson(m));
    const r = runCli(['--home', src, 'backup', s.bak, DB, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).partitions).toBe(1);
    expect(runCli(['check', s.bak, DB]).code).toBe(0);
  });
});
