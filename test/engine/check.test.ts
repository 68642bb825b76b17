import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { checkBackup, type CheckResult } from '../../dist/engine/index.js';
import { runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir as tmpDir } from '../helpers/tmp.js';


let dir: string;
let home: string;

const DB = 'dfs://testdb';
const dataDir = (bak: string, chunkId: string, table: string, cid: number) => path.join(bak, 'testdb', 'data', chunkId, table, String(cid));

function check(bak: string, ...extra: string[]): { code: number | null; r: CheckResult } {
  const res = runCli(['check', bak, DB, ...extra, '--json']);
  if (res.code !== 0 && res.code !== 8) throw new Error(`check exited ${res.code}: ${res.stderr}`);
  return { code: res.code, r: JSON.parse(res.stdout) as CheckResult };
}

function backupDb(bak: string): void {
  const r = runCli(['--home', home, 'backup-db', bak, DB, '--repo-format', '1']);
  expect(r.code, r.stderr).toBe(0);
}

function listRows(bak: string, table: string): { chunkID: string; chunkPath: string; cid: number }[] {
  const r = runCli(['list', bak, DB, table, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  dir = tmpDir('check');
  home = path.join(dir, 'home');
  // 3 dates x 5 buckets = 15 partitions per table, so /Key4/tp/20120103 exists as in the tutorial.
  await generateQuotes(home, { dates: 3, symbols: 20, rowsPerSymbol: 200, seed: 1, workers: 1 });
});

afterAll(() => rmTmp(dir));

describe('check (checkBackup)', () => {
  it("the tutorial's drill: an emptied volume.col of quotes_2 is reported as exactly that chunk with exit 8; backup --force of that partition repairs it; check is clean again", () => {
    const bak = path.join(dir, 'drill');
    backupDb(bak);
    const clean = check(bak);
    expect(clean.code).toBe(0);
    expect(clean.r.bad).toEqual([]);
    expect(clean.r.entriesChecked).toBe(30);

    const row = listRows(bak, 'quotes_2').find((x) => x.chunkPath === '/testdb/Key4/tp/20120103/gB')!;
    expect(row).toBeDefined();
    const col = path.join(dataDir(bak, row.chunkID, 'quotes_2', row.cid), 'volume.col');
    fs.rmSync(col);
    fs.writeFileSync(col, '');

    const damaged = check(bak);
    expect(damaged.code).toBe(8);
    expect(damaged.r.bad).toHaveLength(1);
    expect(damaged.r.bad[0]).toMatchObject({ dbName: DB, tableName: 'quotes_2', chunkPath: '/testdb/Key4/tp/20120103/gB', chunkID: row.chunkID, partitionPath: '/Key4/tp/20120103', problem: 'size' });
    expect(damaged.r.bad[0]!.files.map((f) => f.name)).toEqual(['volume.col']);
    const human = runCli(['check', bak, DB]);
    expect(human.code).toBe(8);
    expect(human.stdout).toContain(row.chunkID);

    const repair = runCli(['--home', home, 'backup', bak, DB, '--force', '--table', 'quotes_2', '--partition', '/Key4/tp/20120103', '--json']);
    expect(repair.code, repair.stderr).toBe(0);
    expect(JSON.parse(repair.stdout).partitions).toBe(1);
    const again = check(bak);
    expect(again.code).toBe(0);
    expect(again.r.bad).toEqual([]);
  });

  it('reports a same-size byte flip as checksum and a deleted file as missing; --table and --partition narrow the scope with restore patterns', () => {
    const bak = path.join(dir, 'kinds');
    backupDb(bak);
    const q = listRows(bak, 'quotes').find((x) => x.chunkPath === '/testdb/Key1/tp/20120102/gA')!;
    const q2 = listRows(bak, 'quotes_2').find((x) => x.chunkPath === '/testdb/Key3/tp/20120101/gB')!;
    const flip = path.join(dataDir(bak, q.chunkID, 'quotes', q.cid), 'price.col');
    const buf = fs.readFileSync(flip);
    buf[buf.length - 1] ^= 0xff;
    fs.writeFileSync(flip, buf);
    fs.rmSync(path.join(dataDir(bak, q2.chunkID, 'quotes_2', q2.cid), 'time.col'));

    const all = check(bak);
    expect(all.code).toBe(8);
    expect(all.r.bad.map((b) => [b.chunkPath, b.problem, b.files.map((f) => f.name).join()]).sort()).toEqual([
      ['/testdb/Key1/tp/20120102/gA', 'checksum', 'price.col'],
      ['/testdb/Key3/tp/20120101/gB', 'missing', 'time.col'],
    ]);
    const onlyQuotes = check(bak, '--table', 'quotes');
    expect(onlyQuotes.r.bad.map((b) => b.tableName)).toEqual(['quotes']);
    expect(onlyQuotes.r.entriesChecked).toBe(15);
    const key3 = check(bak, '--partition', '%/Key3/tp/%');
    expect(key3.r.entriesChecked).toBe(6);
    expect(key3.r.bad.map((b) => b.chunkPath)).toEqual(['/testdb/Key3/tp/20120101/gB']);
    const one = check(bak, '--partition', '/testdb/Key1/tp/2012010?', '--table', 'quotes_2');
    expect(one.code).toBe(0);
    expect(one.r.entriesChecked).toBe(3);
    expect(runCli(['check', bak, DB, '--partition', 'Key1']).code).toBe(2);
  });

  it('--sample and --max-duration runs resume where the last stopped, so repeated runs cover the whole repository and find every damaged entry', async () => {
    const bak = path.join(dir, 'sample');
    backupDb(bak);
    // Damage three entries spread over the key order.
    const rows = [...listRows(bak, 'quotes').map((r) => ({ ...r, t: 'quotes' })), ...listRows(bak, 'quotes_2').map((r) => ({ ...r, t: 'quotes_2' }))].sort((a, b) =>
      `${a.chunkID}/${a.t}` < `${b.chunkID}/${b.t}` ? -1 : 1,
    );
    const victims = [rows[0]!, rows[14]!, rows[29]!];
    for (const v of victims) fs.writeFileSync(path.join(dataDir(bak, v.chunkID, v.t, v.cid), 'side.col'), 'x');
    const want = victims.map((v) => v.chunkPath).sort();

    // In-process (the engine API the CLI calls) to keep the many runs fast; the CLI flags are covered below.
    for (const flags of [{ samplePercent: 25 }, { maxDurationSec: 0.001 }]) {
      const found = new Set<string>();
      const checkedSoFar: number[] = [];
      let runs = 0;
      for (;;) {
        const r = await checkBackup({ backupDir: bak, dbPath: DB, ...flags });
        runs++;
        r.bad.forEach((b) => found.add(b.chunkPath));
        expect(r.coverage).not.toBeNull();
        checkedSoFar.push(r.coverage!.checked);
        if (r.coverage!.passComplete) {
          expect(r.coverage!.checked).toBe(30);
          expect(r.coverage!.badInPass).toBe(3);
          break;
        }
        expect(r.entriesChecked).toBeLessThan(30);
        expect(runs).toBeLessThan(31);
      }
      expect([...found].sort()).toEqual(want);
      expect(checkedSoFar).toEqual([...checkedSoFar].sort((a, b) => a - b));
      if (flags.samplePercent) expect(checkedSoFar).toEqual([8, 16, 24, 30]);
      else expect(runs).toBeGreaterThan(1);
    }
    const state = JSON.parse(fs.readFileSync(path.join(bak, 'testdb', 'check-state.json'), 'utf8'));
    expect(Object.values(state.scopes).map((s) => (s as { passesCompleted: number }).passesCompleted)).toEqual([2]);
    const cli = runCli(['check', bak, DB, '--sample', '50']);
    expect(cli.code).toBe(8);
    expect(cli.stdout).toMatch(/coverage of this pass: 15 of 30 entries \(50%\)/);
  });

  it('reports its throughput, and runs without a cluster home (no job record) or with one (a CHECK job)', () => {
    const bak = path.join(dir, 'drill');
    const { r } = check(bak);
    expect(r.bytesChecked).toBeGreaterThan(0);
    expect(r.mbPerSec).toBeGreaterThan(0);
    const withHome = runCli(['--home', home, 'check', bak, DB, '--json']);
    expect(withHome.code, withHome.stderr).toBe(0);
    const jobs = JSON.parse(runCli(['--home', home, 'jobs', '--json']).stdout) as { type: string; state: string }[];
    expect(jobs.filter((j) => j.type === 'CHECK').map((j) => j.state)).toEqual(['done']);
  });
});
