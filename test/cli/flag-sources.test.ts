import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const DB = 'dfs://testdb';
let dir: string, bak: string, cfg: string;
type Prune = { keptPoints: string[]; dryRun: boolean };
const keptBy = (args: string[], env: Record<string, string> = {}) => {
  const r = runCli(['prune', bak, DB, '--dry-run', '--json', ...args], env);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Prune).keptPoints.length;
};

beforeAll(async () => {
  dir = scratchDir('flag-sources');
  const home = path.join(dir, 'home');
  bak = path.join(dir, 'bak');
  await generateQuotes(home, { dates: 1, symbols: 3, rowsPerSymbol: 20, seed: 1, workers: 1 });
  for (let i = 0; i < 4; i++) cliJson(['--home', home, 'backup-db', bak, DB]);
  cfg = path.join(dir, 'cv.toml');
  fs.writeFileSync(cfg, '[flags]\nkeep-last = 3\n[flags.check]\nworkers = 1\n');
});
afterAll(() => rmTmp(dir));

describe('flag > environment > config file', () => {
  it('a flag not on the command line is read from CHUNKVAULT_<FLAG>', () => {
    expect(keptBy([], { CHUNKVAULT_KEEP_LAST: '1' })).toBe(1);
  });

  it('the config file\'s [flags] fills what neither the command line nor the environment gives', () => {
    expect(keptBy(['--config', cfg])).toBe(3);
    expect(keptBy([], { CHUNKVAULT_CONFIG: cfg })).toBe(3);
  });

  it('the environment beats the file, and the command line beats both', () => {
    expect(keptBy(['--config', cfg], { CHUNKVAULT_KEEP_LAST: '2' })).toBe(2);
    expect(keptBy(['--config', cfg, '--keep-last', '4'], { CHUNKVAULT_KEEP_LAST: '2' })).toBe(4);
  });

  it('a bad value from the environment is a one-line usage error, as on the command line', () => {
    const r = runCli(['prune', bak, DB, '--dry-run'], { CHUNKVAULT_KEEP_LAST: 'zero' });
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['chunkvault: --keep-last must be an integer >= 1 or "unlimited", got "zero"']);
  });
});
