import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { waitExit } from '../helpers/child.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';
import { latestManifest, repoDir } from './backup-helpers.js';
import { DB, backedUpSource, digests, scratchDir } from './helpers-restore.js';

let dir: string, src: string, bak: string;
let n = 0;
const fresh = () => path.join(dir, `home${n++}`);

beforeAll(async () => {
  dir = scratchDir('rtarget');
  ({ home: src, bak } = await backedUpSource(dir));
});
afterAll(() => rmTmp(dir));

describe('the target home of a restore', () => {
  it('a restore-db killed -9 as soon as the new home appears leaves a home that the rerun completes', async () => {
    // On the real disk (not tmpfs) the layout's fsyncs keep the window between the first mkdir and
    // cluster.json open for milliseconds, so the kill lands inside it.
    const disk = tmpDir('rtarget-kill');
    let caught = 0;
    try {
      for (let trial = 0; trial < 10 && caught < 3; trial++) {
        const home = path.join(disk, `home${trial}`);
        const child = spawn(process.execPath, [CLI, '--home', home, 'restore-db', bak, DB], { stdio: 'ignore' });
        // Spin (not poll on a timer): the window is short.
        const deadline = Date.now() + 20_000;
        while (!fs.existsSync(home) && Date.now() < deadline && child.exitCode === null);
        child.kill('SIGKILL');
        await waitExit(child);
        if (!fs.existsSync(path.join(home, 'cluster.json'))) caught++;
        const r = runCli(['--home', home, 'restore-db', bak, DB]);
        expect(r.code, r.stderr).toBe(0);
        expect(digests(home)).toEqual(digests(src));
      }
    } finally {
      rmTmp(disk);
    }
    // The kill really landed between the first directory and cluster.json.
    expect(caught).toBeGreaterThan(0);
  });

  it('a home left with only the layout directories (no cluster.json) is completed by restore-db', () => {
    const home = fresh();
    for (const d of ['volumes/node1/vol0', 'catalog', 'pins']) fs.mkdirSync(path.join(home, d), { recursive: true });
    const r = runCli(['--home', home, 'restore-db', bak, DB]);
    expect(r.code, r.stderr).toBe(0);
    expect(digests(home)).toEqual(digests(src));
  });

  it('a non-empty directory holding a file is still refused as a target home, and left as it was', () => {
    const home = fresh();
    fs.mkdirSync(path.join(home, 'catalog'), { recursive: true });
    fs.writeFileSync(path.join(home, 'catalog', 'notes.txt'), 'mine');
    const r = runCli(['--home', home, 'restore-db', bak, DB]);
    expect(r.code).toBe(3);
    expect(r.errLines).toHaveLength(1);
    expect(fs.readdirSync(home)).toEqual(['catalog']);
    expect(fs.readdirSync(path.join(home, 'catalog'))).toEqual(['notes.txt']);
  });

  it('restore-table of a table the point lacks exits 3 and creates no home', () => {
    const home = fresh();
    const r = runCli(['--home', home, 'restore-table', bak, DB, 'nope']);
    expect(r.code).toBe(3);
    expect(r.errLines).toEqual([expect.stringMatching(/table nope is not in restore point/)]);
    expect(fs.existsSync(home)).toBe(false);
  });

  it('a data file missing from the repository makes restore exit 7 (damage), not 3', () => {
    const copy = path.join(dir, `bak${n++}`);
    fs.cpSync(bak, copy, { recursive: true });
    const m = latestManifest(copy, DB);
    const p = m.partitions[0]!;
    const e = p.tables.quotes!;
    fs.rmSync(path.join(repoDir(copy, DB), 'data', p.chunkId, 'quotes', String(e.cid), e.files[0]!.name));
    const r = runCli(['--home', fresh(), 'restore-db', copy, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain(p.path);
  });
});
