import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { editPoint, latestManifest, repoDir } from '../engine/backup-helpers.js';
import { DB, TSDB, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

let dir: string, cleanBak: string;
let n = 0;

beforeAll(async () => {
  dir = scratchDir('mverify');
  ({ bak: cleanBak } = await backedUpSource(dir));
});
afterAll(() => rmTmp(dir));

/** A private copy of the backup and the path of its latest point's file. */
function scene(db = DB) {
  const root = path.join(dir, `s${n++}`);
  const bak = path.join(root, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  const m = latestManifest(bak, db);
  return { bak, home: path.join(root, 'target'), pointFile: path.join(repoDir(bak, db), 'points', `${m.pointId}.json`) };
}

type Edit = (m: any) => void;
const firstEntry = (m: any) => m.partitions[0].tables.quotes ?? Object.values<any>(m.partitions[0].tables)[0];
const EDITS: [string, Edit][] = [
  ['rows + 1', (m) => (firstEntry(m).rows += 1)],
  ['two partition paths swapped', (m) => ([m.partitions[0].path, m.partitions[1].path] = [m.partitions[1].path, m.partitions[0].path])],
  ['a column type changed', (m) => (m.tables.quotes.schema[2].type = 'DOUBLE')],
  ['a file dropped from an entry', (m) => (firstEntry(m).bytes -= firstEntry(m).files.pop().size)],
  ['a whole partition dropped', (m) => m.partitions.pop()],
  ['rows = 2^53-1', (m) => (firstEntry(m).rows = Number.MAX_SAFE_INTEGER)],
  ['a flipped byte in the scheme', (m) => (m.scheme.levels[0].buckets = 4)],
];

describe('a restore point is verified before it is believed', () => {
  it.each(EDITS)('an edit (%s) fails the checksum: check and restore-db exit 7 and restore nothing', (_what, edit) => {
    const s = scene();
    editPoint(s.pointFile, edit, false);
    for (const args of [['check', s.bak, DB], ['--home', s.home, 'restore-db', s.bak, DB], ['list', s.bak, DB, 'quotes'], ['points', s.bak, DB]]) {
      const r = runCli(args);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(7);
      expect(r.errLines).toHaveLength(1);
      expect(r.errLines[0]).toMatch(/does not match its checksum/);
    }
    expect(fs.existsSync(s.home)).toBe(false);
  });

  it.each(EDITS.filter(([what]) => ['rows + 1', 'a column type changed', 'a file dropped from an entry', 'rows = 2^53-1'].includes(what)))(
    'with its checksum recomputed, an edit (%s) is still caught against the data: check exits 8 naming it, restore exits 7 saying why',
    (_what, edit) => {
      const s = scene();
      const m = latestManifest(s.bak, DB);
      const victim = m.partitions[0]!.path;
      editPoint(s.pointFile, edit, true);
      const c = runCli(['check', s.bak, DB, '--json']);
      expect(c.code, c.stderr).toBe(8);
      const bad = JSON.parse(c.stdout).bad as { partitionPath: string; problem: string }[];
      expect(bad.map((b) => b.partitionPath)).toContain(victim);
      const r = runCli(['--home', s.home, 'restore-db', s.bak, DB]);
      expect(r.code, r.stderr).toBe(7);
      expect(r.errLines).toHaveLength(1);
      // A changed column type fails every partition of the table; the line names the first five.
      expect(r.errLines[0]).toMatch(/does not describe its data/);
    },
  );

  it('a TSDB entry whose row count was changed and resealed fails check and restore', () => {
    const s = scene(TSDB);
    editPoint(s.pointFile, (m) => (Object.values<any>(m.partitions[0].tables)[0].rows -= 1), true);
    expect(runCli(['check', s.bak, TSDB]).code).toBe(8);
    const r = runCli(['--home', s.home, 'restore-db', s.bak, TSDB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines[0]).toMatch(/level files hold \d+ rows, the description says/);
  });

  it('a partition path that is not in the point\'s own scheme is refused even with a recomputed checksum', () => {
    const s = scene();
    editPoint(s.pointFile, (m) => (m.partitions[0].path = '/Key9/tp/20120101'), true);
    const r = runCli(['--home', s.home, 'restore-db', s.bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines[0]).toMatch(/does not fit its own partition scheme/);
    expect(fs.existsSync(s.home)).toBe(false);
  });

  it.each(['__proto__', 'constructor'])('a table named %s in a resealed point is a malformed name or a table like any other, never an internal error', (name) => {
    const s = scene();
    const part = m0(s.bak);
    editPoint(s.pointFile, (m) => {
      m.tables[name] = { ...m.tables.quotes, name };
      m.partitions[0].tables[name] = m.partitions[0].tables.quotes;
    }, true);
    for (const args of [['check', s.bak, DB], ['list', s.bak, DB, 'quotes'], ['meta', s.bak, DB, part, 'quotes'], ['--home', s.home, 'restore-db', s.bak, DB]]) {
      const r = runCli(args);
      expect([0, 7, 8], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });

  it('a point written without a checksum (format 1) is refused with a clear line', () => {
    const s = scene();
    const { checksum: _c, ...m } = JSON.parse(fs.readFileSync(s.pointFile, 'utf8'));
    fs.writeFileSync(s.pointFile, JSON.stringify({ ...m, format: 1 }));
    const r = runCli(['check', s.bak, DB]);
    expect(r.code).toBe(7);
    expect(r.errLines).toEqual([expect.stringMatching(/has no checksum of its content/)]);
  });
});

/** The first partition path of the latest point, before any edit. */
function m0(bak: string): string {
  return latestManifest(bak, DB).partitions[0]!.path;
}
