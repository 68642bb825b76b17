import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, hashString, loadChunks, readPartition, valueAt, vectorLength, type PartitionStat } from '../../dist/store/index.js';
import { cliJson, runCli, runCliAsync } from '../helpers/cli.js';
import { listFiles, rmTmp, tmpDir } from '../helpers/tmp.js';

type Part = PartitionStat;

let root: string;
const home = () => path.join(root, 'h');
const spread = () => path.join(root, 'spread');
let summary: { databases: string[]; dates: number; partitions: number; rows: number; bytes: number; mbPerSec: number };

beforeAll(async () => {
  root = tmpDir('gen');
  const init = runCli(['--home', spread(), 'init', '--nodes', '2', '--volumes-per-node', '2']);
  expect(init.code, init.stderr).toBe(0);
  const [main, sp] = await Promise.all([
    runCliAsync(['--home', home(), 'generate', '--dates', '2', '--symbols', '50', '--rows-per-symbol', '1000', '--json']),
    runCliAsync(['--home', spread(), 'generate', '--dates', '2', '--symbols', '20', '--rows-per-symbol', '50']),
  ]);
  expect(main.code, main.stderr).toBe(0);
  expect(sp.code, sp.stderr).toBe(0);
  summary = JSON.parse(main.stdout);
});
afterAll(() => rmTmp(root));

describe('generate --dates 2 --symbols 50 --rows-per-symbol 1000', () => {
  it('creates dfs://testdb (OLAP: quotes, quotes_2) and dfs://testdb_tsdb (TSDB: quotes_tsdb) on an empty home', () => {
    expect(fs.existsSync(path.join(home(), 'cluster.json'))).toBe(true);
    const list = cliJson<{ dbPath: string; engine: string; tables: string[]; partitions: number }[]>(['--home', home(), 'db', 'list']);
    expect(list.map(({ dbPath, engine, tables, partitions }) => ({ dbPath, engine, tables, partitions }))).toEqual([
      { dbPath: 'dfs://testdb', engine: 'OLAP', tables: ['quotes', 'quotes_2'], partitions: 10 },
      { dbPath: 'dfs://testdb_tsdb', engine: 'TSDB', tables: ['quotes_tsdb'], partitions: 10 },
    ]);
    expect(summary).toMatchObject({ databases: ['dfs://testdb', 'dfs://testdb_tsdb'], dates: 2, partitions: 10, rows: 300_000 });
    expect(summary.bytes).toBe(listFiles(path.join(home(), 'volumes')).reduce((a, f) => a + fs.statSync(path.join(home(), 'volumes', f)).size, 0));
  });

  it('db describe shows the tutorial scheme and schema, with sortColumns symbol,time on quotes_tsdb', () => {
    const d = cliJson<{ engine: string; scheme: { type: string; levels: { type: string; colType: string }[] }; tables: Record<string, { schema: { name: string; type: string }[]; sortColumns?: string[]; partitionColumns: string[] }> }>(['--home', home(), 'db', 'describe', 'dfs://testdb_tsdb']);
    expect(d.engine).toBe('TSDB');
    expect(d.scheme.levels.map((l) => `${l.type}(${l.colType})`)).toEqual(['HASH(SYMBOL)', 'VALUE(SYMBOL)', 'VALUE(DATE)']);
    const t = d.tables.quotes_tsdb!;
    expect(t.schema.map((c) => `${c.name} ${c.type}`)).toEqual(['time TIMESTAMP', 'symbol SYMBOL', 'price FLOAT', 'volume FLOAT', 'side SYMBOL', 'source SYMBOL']);
    expect(t.sortColumns).toEqual(['symbol', 'time']);
    expect(t.partitionColumns).toEqual(['symbol', 'source', 'time']);
  });

  it.each([
    ['dfs://testdb', 'quotes'],
    ['dfs://testdb', 'quotes_2'],
    ['dfs://testdb_tsdb', 'quotes_tsdb'],
  ])('db partitions %s --table %s lists 10 partitions /KeyN/tp/yyyyMMdd whose rows sum to 100000', (db, table) => {
    const parts = cliJson<Part[]>(['--home', home(), 'db', 'partitions', db, '--table', table]);
    expect(parts).toHaveLength(10);
    const paths = parts.map((p) => p.path).sort();
    expect(paths).toEqual([0, 1, 2, 3, 4].flatMap((k) => [`/Key${k}/tp/20120101`, `/Key${k}/tp/20120102`]));
    expect(parts.reduce((a, p) => a + p.rows, 0)).toBe(100_000);
    for (const p of parts) {
      expect(p).toMatchObject({ table, node: 'node1' });
      expect(p.chunkId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(p.rows % 1000).toBe(0);
      expect(p.bytes).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(p.updateTime))).toBe(false);
    }
  });

  it('every row sits in the partition of its symbol hash bucket and date, with source tp', () => {
    const c = new Cluster(home());
    for (const [db, table] of [['dfs://testdb', 'quotes'], ['dfs://testdb_tsdb', 'quotes_tsdb']] as const) {
      for (const k of loadChunks(c, db)) {
        const [, key, src, date] = k.path.split('/');
        const { rows, cols } = readPartition(c, db, table, k.path);
        expect(vectorLength(cols.time!)).toBe(rows);
        for (let i = 0; i < rows; i += 97) {
          expect(`Key${hashString(valueAt(cols.symbol!, i) as string) % 5}`).toBe(key);
          expect(valueAt(cols.source!, i)).toBe(src);
          expect(new Date(valueAt(cols.time!, i) as number).toISOString().slice(0, 10).replace(/-/g, '')).toBe(date);
        }
      }
    }
  });

  it('TSDB partitions come out sorted by (symbol, time)', () => {
    const c = new Cluster(home());
    const k = loadChunks(c, 'dfs://testdb_tsdb')[0]!;
    const { rows, cols } = readPartition(c, 'dfs://testdb_tsdb', 'quotes_tsdb', k.path);
    for (let i = 1; i < rows; i++) {
      const a = [valueAt(cols.symbol!, i - 1) as string, valueAt(cols.time!, i - 1) as number];
      const b = [valueAt(cols.symbol!, i) as string, valueAt(cols.time!, i) as number];
      expect(a[0]! < b[0]! || (a[0] === b[0] && a[1]! <= b[1]!), `row ${i}`).toBe(true);
    }
  });

  it('commits every partition it staged: no stage directory is left in the volumes', () => {
    const stages = listFiles(path.join(home(), 'volumes')).filter((f) => f.split('/').some((part) => part.includes('_tid_')));
    expect(stages).toEqual([]);
  });

  it('a second generate into the same home is refused with CONFLICT (exit 4) and changes nothing', () => {
    const before = listFiles(home());
    const r = runCli(['--home', home(), 'generate', '--dates', '1', '--symbols', '5', '--rows-per-symbol', '10']);
    expect(r.code).toBe(4);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/dfs:\/\/testdb already exists/);
    expect(listFiles(home())).toEqual(before);
  });
});

describe('placement', () => {
  it('init --nodes 2 --volumes-per-node 2 then generate spreads partitions over all 4 volumes of both nodes', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(spread(), 'cluster.json'), 'utf8')) as { nodes: { name: string; volumes: { path: string }[] }[] };
    const volumes = cfg.nodes.flatMap((n) => n.volumes.map((v) => v.path));
    expect(volumes).toHaveLength(4);
    for (const db of ['dfs://testdb', 'dfs://testdb_tsdb']) {
      const parts = cliJson<Part[]>(['--home', spread(), 'db', 'partitions', db]);
      const perVolume = new Map<string, number>();
      for (const p of parts) perVolume.set(p.volume, (perVolume.get(p.volume) ?? 0) + 1);
      expect([...perVolume.keys()].sort()).toEqual([...volumes].sort());
      // 10 chunks over 4 volumes: no volume gets more than one chunk above its share.
      const chunks = new Map(parts.map((p) => [p.chunkId, p.volume]));
      const counts = [...chunks.values()].reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>());
      expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
      // and each chunk's files are really on its volume
      for (const p of parts) expect(fs.existsSync(path.join(p.volume, 'CHUNKS', db.slice(6), ...p.path.split('/').filter(Boolean)))).toBe(true);
    }
  });
});

describe('generate --size', () => {
  it('--size 512KiB picks the number of dates whose data is nearest 512 KiB (within half a date)', () => {
    const h = path.join(root, 'size');
    const s = cliJson<{ dates: number; bytes: number }>(['--home', h, 'generate', '--size', '512KiB', '--symbols', '10', '--rows-per-symbol', '500']);
    const perDate = s.bytes / s.dates;
    expect(s.dates).toBeGreaterThan(1);
    expect(Math.abs(s.bytes - 512 * 1024)).toBeLessThanOrEqual(0.6 * perDate);
  });
});
