import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { Cluster, TYPES, loadDatabase, partitionStats } from '../../dist/store/index.js';
import { getBackupMeta, type BackupListRow, type BackupMeta } from '../../dist/engine/index.js';
import { sealJson } from '../../dist/repo/sealed-json.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir as tmpDir } from '../helpers/tmp.js';


let dir: string;
let home: string;
let bak: string;

const DBS = { 'dfs://testdb': ['quotes', 'quotes_2'], 'dfs://testdb_tsdb': ['quotes_tsdb'] } as const;

beforeAll(async () => {
  dir = tmpDir('inspect');
  home = path.join(dir, 'home');
  bak = path.join(dir, 'bak');
  await generateQuotes(home, { dates: 2, symbols: 20, rowsPerSymbol: 100, seed: 3, workers: 1 });
  for (const db of Object.keys(DBS)) expect(runCli(['--home', home, 'backup-db', bak, db]).code).toBe(0);
});

afterAll(() => rmTmp(dir));

describe('list (getBackupList) and meta (getBackupMeta)', () => {
  it("list agrees with the store's partitionStats for every partition of every table: chunkID, cid, rows, updateTime, and chunkPath /<db><partition>/g<physIndex>", () => {
    const c = new Cluster(home);
    for (const [db, tables] of Object.entries(DBS)) {
      const def = loadDatabase(c, db);
      for (const t of tables) {
        const rows = cliJson<BackupListRow[]>(['list', bak, db, t]);
        const letter = String.fromCharCode(65 + def.tables[t]!.physIndex);
        const want = partitionStats(c, db, t).map((s) => ({ chunkID: s.chunkId, chunkPath: `/${db.slice(6)}${s.path}/g${letter}`, cid: s.cid, rows: s.rows, updateTime: s.updateTime }));
        const byId = (a: { chunkID: string }, b: { chunkID: string }) => (a.chunkID < b.chunkID ? -1 : 1);
        expect(rows.sort(byId)).toEqual(want.sort(byId));
        expect(rows).toHaveLength(10);
      }
    }
  });

  it("meta agrees with partitionStats and the table's schema for every partition, and its dfsPath is list's chunkPath", () => {
    const c = new Cluster(home);
    for (const [db, tables] of Object.entries(DBS)) {
      const def = loadDatabase(c, db);
      for (const t of tables) {
        const list = new Map(cliJson<BackupListRow[]>(['list', bak, db, t]).map((r) => [r.chunkID, r]));
        for (const s of partitionStats(c, db, t)) {
          const m = getBackupMeta(bak, db, s.path, t); // in-process: the CLI's meta is covered below
          expect(m).toMatchObject({ dfsPath: list.get(s.chunkId)!.chunkPath, rows: s.rows, chunkID: s.chunkId, cid: s.cid, partitionPath: s.path });
          expect(m.schema).toEqual(def.tables[t]!.schema.map((col) => ({ name: col.name, typeString: col.type, typeInt: TYPES[col.type].id, extra: null, comment: col.comment ?? '' })));
          expect(m.files.reduce((a, f) => a + f.size, 0)).toBe(s.bytes);
        }
      }
    }
  });

  it('meta takes the partition with or without the database name, as DolphinDB paths write it', () => {
    const a = cliJson<BackupMeta>(['meta', bak, 'dfs://testdb', '/Key2/tp/20120102', 'quotes']);
    const b = cliJson<BackupMeta>(['meta', bak, 'dfs://testdb', '/testdb/Key2/tp/20120102', 'quotes']);
    expect(b).toEqual(a);
    const human = runCli(['meta', bak, 'dfs://testdb', '/Key2/tp/20120102', 'quotes']);
    expect(human.stdout).toMatch(/^dfsPath\s+\/testdb\/Key2\/tp\/20120102\/gA$/m);
    expect(human.stdout).toMatch(/^volume\s+FLOAT\s+15\b/m);
  });

  it('list reads a point whose partitions come before its scheme and tables as it reads one written in the usual order', () => {
    const copy = path.join(dir, 'reordered');
    fs.cpSync(bak, copy, { recursive: true });
    const points = path.join(copy, 'testdb', 'points');
    const file = path.join(points, fs.readdirSync(points)[0]!);
    const { checksum: _c, partitions, ...head } = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, sealJson({ partitions, ...head }));
    expect(runCli(['list', copy, 'dfs://testdb', 'quotes', '--json']).stdout).toBe(runCli(['list', bak, 'dfs://testdb', 'quotes', '--json']).stdout);
  });

  it('an unknown table, partition or backup gets a one-line error and exit 3', () => {
    const t = runCli(['list', bak, 'dfs://testdb', 'nope']);
    expect([t.code, t.errLines.length]).toEqual([3, 1]);
    expect(t.stderr).toContain('quotes, quotes_2');
    expect(runCli(['meta', bak, 'dfs://testdb', '/Key9/tp/20120101', 'quotes']).code).toBe(3);
    expect(runCli(['list', path.join(dir, 'missing'), 'dfs://testdb', 'quotes']).code).toBe(3);
  });
});
