import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED, ENTRY_POINTS, entryPath } from '../../dist/common/entry-points.js';
import { Cluster, databaseDigest } from '../../dist/store/index.js';
import { ROOT } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const BUNDLE = path.join(ROOT, 'dist/bundle');
let dir: string;

beforeAll(() => {
  dir = scratchDir('entry-points');
});
afterAll(() => rmTmp(dir));

describe('entry points', () => {
  it('names files that exist in both the tsc layout and the bundle', () => {
    expect(BUNDLED).toBe(false);
    for (const [name, file] of Object.entries(ENTRY_POINTS)) {
      expect(entryPath(name as keyof typeof ENTRY_POINTS)).toBe(path.join(ROOT, 'dist', file));
      expect(fs.existsSync(path.join(ROOT, 'dist', file)), file).toBe(true);
      expect(fs.existsSync(path.join(BUNDLE, `${name}.js`)), name).toBe(true);
    }
  });

  it('the bundle generates, backs up (v2) and restores with no tsc layout beside it', () => {
    // A copy of dist/bundle alone: an entry resolved in the tsc layout (../io/copy-worker.js)
    // would then fail to load, where in the checkout it would quietly load the unbundled file.
    const alone = path.join(dir, 'alone');
    fs.cpSync(BUNDLE, path.join(alone, 'bundle'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(alone, 'node_modules'));
    fs.writeFileSync(path.join(alone, 'package.json'), '{"type":"module"}\n');
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [path.join(alone, 'bundle/cli.js'), ...args, '--json'], { encoding: 'utf8', timeout: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout;
    };
    const [home, copy, repo] = ['home', 'copy', 'repo'].map((d) => path.join(dir, d));
    cli('--home', home!, 'init');
    cli('--home', home!, 'generate', '--dates', '2', '--symbols', '3', '--rows-per-symbol', '20', '--workers', '2');
    cli('--home', home!, 'backup-all', repo!, '--repo-format', '2', '--compression', 'fast');
    cli('--home', copy!, 'init');
    cli('--home', copy!, 'migrate', repo!);
    for (const db of ['dfs://testdb', 'dfs://testdb_tsdb']) {
      expect(databaseDigest(new Cluster(copy!), db)).toEqual(databaseDigest(new Cluster(home!), db));
    }
  });
});
