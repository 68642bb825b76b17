import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { listFiles, rmTmp, scratchDir } from '../helpers/tmp.js';
import { digests } from './helpers-restore.js';

const DBS = ['dfs://testdb', 'dfs://testdb_tsdb'];

/** Every blob's compression in a plain v2 repository's pack indexes (unencrypted indexes are JSON). */
function compressions(repo: string): Map<string, Set<string>> {
  const byFile = new Map<string, Set<string>>();
  for (const f of listFiles(repo).filter((f) => f.split('/').includes('index'))) {
    const ix = JSON.parse(fs.readFileSync(path.join(repo, f), 'utf8')) as { entries: { files: { name: string; blobs: { compression: string }[] }[] }[] };
    for (const e of ix.entries) for (const file of e.files) for (const b of file.blobs) byFile.set(file.name, (byFile.get(file.name) ?? new Set()).add(b.compression));
  }
  return byFile;
}

describe('a compressed v2 backup of the quotes data (files of numbers byte-shuffled)', () => {
  let dir: string, src: string;
  beforeAll(() => {
    dir = scratchDir('backup-shuffle');
    src = path.join(dir, 'src');
    // 20,000 rows a symbol: column files of 80-160 KB, above the 64 KiB shuffle sample and the 4 KiB compression floor.
    const g = runCli(['--home', src, 'generate', '--dates', '1', '--symbols', '10', '--rows-per-symbol', '20000']);
    expect(g.code, g.stderr).toBe(0);
  });
  afterAll(() => rmTmp(dir));

  it('stores the FLOAT and TSDB level files shuffled, symbols and dictionaries plain zstd, and restores every database byte for byte', () => {
    const bak = path.join(dir, 'plain');
    const b = runCli(['--home', src, 'backup-all', bak, '--compression', 'default']);
    expect(b.code, b.stderr).toBe(0);
    const olap = compressions(path.join(bak, 'testdb'));
    expect(olap.get('price.col')).toEqual(new Set(['zstd-shuffle4']));
    expect(olap.get('symbol.col')?.has('zstd-shuffle4') || olap.get('symbol.col')?.has('zstd-shuffle8')).toBe(false);
    expect(compressions(path.join(bak, 'testdb_tsdb')).get('0_00000001')).toEqual(new Set(['zstd-shuffle4']));
    const target = path.join(dir, 'target');
    for (const db of DBS) {
      const r = runCli(['--home', target, 'restore-db', bak, db]);
      expect(r.code, r.stderr).toBe(0);
      expect(digests(target, db)).toEqual(digests(src, db));
    }
    const c = runCli(['check', bak, 'dfs://testdb', '--json']);
    expect(c.code, c.stderr).toBe(0);
  });

  it('copy from an uncompressed repository into a compressing one shuffles the files of numbers, as a backup would', () => {
    const off = path.join(dir, 'off');
    expect(runCli(['--home', src, 'backup-db', off, 'dfs://testdb', '--repo-format', '2', '--compression', 'off']).code).toBe(0);
    expect(compressions(path.join(off, 'testdb')).get('price.col')).toEqual(new Set(['none']));
    const zstd = path.join(dir, 'recoded');
    expect(runCli(['repo', 'init', zstd, '--encryption', 'none', '--compression', 'default']).code).toBe(0);
    const c = runCli(['copy', off, zstd, 'dfs://testdb', '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).recoded).toBe(true);
    expect(compressions(path.join(zstd, 'testdb')).get('price.col')).toEqual(new Set(['zstd-shuffle4']));
    const target = path.join(dir, 'target-recoded');
    const r = runCli(['--home', target, 'restore-db', zstd, 'dfs://testdb']);
    expect(r.code, r.stderr).toBe(0);
    expect(digests(target, 'dfs://testdb')).toEqual(digests(src, 'dfs://testdb'));
  });

  it('an encrypted repository restores the shuffled blobs byte for byte', () => {
    const bak = path.join(dir, 'sealed');
    const env = { CHUNKVAULT_PASSWORD: 'shuffle-test-password' };
    expect(runCli(['--home', src, 'backup-all', bak], env).code).toBe(0);
    const target = path.join(dir, 'target-sealed');
    for (const db of DBS) {
      const r = runCli(['--home', target, 'restore-db', bak, db], env);
      expect(r.code, r.stderr).toBe(0);
      expect(digests(target, db)).toEqual(digests(src, db));
    }
  });
});
