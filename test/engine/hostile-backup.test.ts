import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreDb } from '../../dist/engine/index.js';
import { Cluster, readPartition } from '../../dist/store/index.js';
import { runCli } from '../helpers/cli.js';
import { listFiles, rmTmp } from '../helpers/tmp.js';
import { editPoint, latestManifest, repoDir } from './backup-helpers.js';
import { scratchDir, DB, appendQuote, backedUpSource, digests, partitionDigest, tablePaths } from './helpers-restore.js';

let dir: string, src: string, cleanBak: string;
let n = 0;

beforeAll(async () => {
  dir = scratchDir('hostile');
  ({ home: src, bak: cleanBak } = await backedUpSource(dir));
});
afterAll(() => rmTmp(dir));

/** A private copy of the backup to damage, a canary directory beside it, and a target home. */
function scene() {
  const root = path.join(dir, `scene${n++}`);
  const bak = path.join(root, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true });
  const outside = path.join(root, 'outside');
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'canary.txt'), 'do not touch');
  const snapshot = () => listFiles(outside).map((f) => [f, fs.readFileSync(path.join(outside, f), 'utf8')]);
  const canary = snapshot();
  const m = latestManifest(bak, DB);
  const part = m.partitions.find((p) => p.path === '/Key2/tp/20120101')!;
  const entry = part.tables.quotes!;
  const dataDir = path.join(repoDir(bak, DB), 'data', part.chunkId, 'quotes', String(entry.cid));
  const pointFile = path.join(repoDir(bak, DB), 'points', `${m.pointId}.json`);
  return { root, bak, outside, home: path.join(root, 'target'), part, dataDir, file: path.join(dataDir, entry.files[0]!.name), pointFile, canaryUntouched: () => expect(snapshot()).toEqual(canary) };
}

const CHANGE_IN_KEY2 = 'S00003'; // a symbol that hashes to Key2

describe('hostile and damaged backups', () => {
  it('a backup file corrupted by one byte fails that partition with exit 7 and leaves its previous target data readable', async () => {
    const s = scene();
    await restoreDb({ home: s.home, backupDir: s.bak, dbPath: DB });
    // Change two target partitions, so the next restore must copy both of them again.
    const changed = appendQuote(s.home, DB, 'quotes', CHANGE_IN_KEY2).partitions[0]!;
    expect(changed).toBe(s.part.path);
    const other = appendQuote(s.home, DB, 'quotes', 'S00001').partitions[0]!;
    const before = partitionDigest(s.home, DB, 'quotes', changed);
    const buf = fs.readFileSync(s.file);
    buf[buf.length >> 1] ^= 0x01;
    fs.writeFileSync(s.file, buf);

    const r = runCli(['--home', s.home, 'restore', s.bak, DB, 'quotes', '%']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain(`failed for 1 partition(s): ${changed} (quotes)`);
    expect(r.errLines[0]).toContain('checksum mismatch');
    expect(partitionDigest(s.home, DB, 'quotes', changed)).toEqual(before);
    expect(readPartition(new Cluster(s.home), DB, 'quotes', changed).rows).toBe(before!.rows);
    // The other changed partition was restored all the same.
    expect(partitionDigest(s.home, DB, 'quotes', other)).toEqual(partitionDigest(src, DB, 'quotes', other));
    expect(listFiles(path.join(s.home, 'volumes')).filter((f) => f.includes('_tid_'))).toEqual([]);
  });

  it('a backup file whose size differs from the manifest is refused', async () => {
    const s = scene();
    fs.appendFileSync(s.file, 'x');
    const r = runCli(['--home', s.home, 'restore-db', s.bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines[0]).toMatch(/size mismatch/);
    expect(tablePaths(s.home, DB, 'quotes')).not.toContain(s.part.path);
    expect(tablePaths(s.home, DB, 'quotes_2')).toContain(s.part.path);
  });

  it.each([
    ['partition path', (m: any) => (m.partitions[0].path = '/../../outside/x/y')],
    ['file name', (m: any) => (Object.values<any>(m.partitions[0].tables)[0].files[0].name = '../../../../../../outside/evil')],
    ['chunk id', (m: any) => (m.partitions[0].chunkId = '../../outside')],
    ['table name', (m: any) => (m.partitions[0].tables['../../outside'] = Object.values<any>(m.partitions[0].tables)[0])],
  ])('a manifest naming ../../outside as a %s is refused and nothing is written outside the target', (_what, edit) => {
    const s = scene();
    editPoint(s.pointFile, edit, true); // as an attacker who recomputes the checksum would
    const r = runCli(['--home', s.home, 'restore-db', s.bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/unsafe/);
    s.canaryUntouched();
    expect(fs.existsSync(s.home)).toBe(false);
  });

  it('a backup data file replaced by a symbolic link is refused, even when the link target has the right bytes', () => {
    const s = scene();
    const decoy = path.join(s.outside, 'decoy.col');
    fs.copyFileSync(s.file, decoy);
    fs.rmSync(s.file);
    fs.symlinkSync(decoy, s.file);
    const canary = fs.readFileSync(decoy);
    const r = runCli(['--home', s.home, 'restore-db', s.bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines[0]).toMatch(/symbolic link/);
    expect(fs.readFileSync(decoy)).toEqual(canary);
    expect(listFiles(s.outside)).toEqual(['canary.txt', 'decoy.col']);
    expect(tablePaths(s.home, DB, 'quotes')).not.toContain(s.part.path);
  });

  it('a backup data directory replaced by a symbolic link is refused', () => {
    const s = scene();
    const elsewhere = path.join(s.root, 'elsewhere');
    fs.cpSync(s.dataDir, elsewhere, { recursive: true });
    fs.rmSync(s.dataDir, { recursive: true });
    fs.symlinkSync(elsewhere, s.dataDir);
    const r = runCli(['--home', s.home, 'restore-db', s.bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines[0]).toMatch(/refusing to follow a symbolic link in the backup/);
    s.canaryUntouched();
    expect(listFiles(elsewhere)).toEqual(listFiles(s.dataDir.replace(s.bak, cleanBak)));
    expect(tablePaths(s.home, DB, 'quotes')).not.toContain(s.part.path);
  });

  it('a clean copy of the same backup still restores to the source digest', async () => {
    const s = scene();
    await restoreDb({ home: s.home, backupDir: s.bak, dbPath: DB });
    expect(digests(s.home)).toEqual(digests(src));
  });
});
