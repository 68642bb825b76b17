import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli } from '../helpers/cli.js';
import { listFiles, rmTmp } from '../helpers/tmp.js';
import { holdLock, repoDir, smallQuotes } from './backup-helpers.js';
import { DB, TSDB, scratchDir } from './helpers-restore.js';

let dir: string, home: string;
type Row = { dbPath: string; success: boolean; error?: { code: string } };

beforeAll(async () => {
  dir = scratchDir('check-all');
  home = path.join(dir, 'home');
  await smallQuotes(home);
});
afterAll(() => rmTmp(dir));

describe('check of every database', () => {
  it('reports a damaged file in one database with exit 8 while the other is checked clean', () => {
    const bak = path.join(dir, 'bak-check');
    cliJson(['--home', home, 'backup-all', bak, '--repo-format', '1']);
    const data = path.join(repoDir(bak, TSDB), 'data');
    const p = path.join(data, listFiles(data)[0]!);
    const buf = fs.readFileSync(p);
    buf[buf.length - 1]! ^= 0xff;
    fs.writeFileSync(p, buf);
    const r = runCli(['check', bak, '--json']);
    expect(r.code, r.stderr).toBe(8);
    const out = JSON.parse(r.stdout) as { databases: (Row & { bad: unknown[]; entriesChecked: number; entriesInScope: number })[]; bad: { dbName: string }[] };
    expect(out.databases.map((d) => [d.dbPath, d.success, d.bad.length > 0])).toEqual([[DB, true, false], [TSDB, true, true]]);
    expect(out.databases[0]!.entriesChecked).toBe(out.databases[0]!.entriesInScope);
    expect(out.bad.map((b) => b.dbName)).toEqual([TSDB]);
  });

  it('a database that cannot be checked is a failed record and exit 10 when the others are clean', () => {
    const bak = path.join(dir, 'bak-check-locked');
    cliJson(['--home', home, 'backup-all', bak]);
    holdLock(bak, DB);
    const r = runCli(['check', bak, '--json']);
    expect(r.code, r.stderr).toBe(10);
    const rows = (JSON.parse(r.stdout) as { databases: Row[] }).databases;
    expect(rows.map((d) => [d.dbPath, d.success, d.error?.code])).toEqual([[DB, false, 'LOCKED'], [TSDB, true, undefined]]);
  });
});
