import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
let home: string;
type Res = { partitions: number; skipped: number; bytesCopied: number };
const backup = (...args: string[]) => cliJson<Res>(['--home', home, ...args]);

beforeAll(async () => {
  dir = scratchDir('backup-cmds');
  home = path.join(dir, 'home');
  await generateQuotes(home, { dates: 1, symbols: 5, rowsPerSymbol: 50, seed: 1, workers: 1 });
});
afterAll(() => rmTmp(dir));

describe('backup-db and backup-table --force', () => {
  it('backup-db --force copies every partition again where a plain rerun copies none', () => {
    const bak = path.join(dir, 'bak-db');
    const first = backup('backup-db', bak, 'dfs://testdb');
    expect(backup('backup-db', bak, 'dfs://testdb')).toMatchObject({ partitions: 0, skipped: first.partitions });
    expect(backup('backup-db', bak, 'dfs://testdb', '--force')).toMatchObject({ partitions: first.partitions, skipped: 0, bytesCopied: first.bytesCopied });
  });

  it('backup-table --force copies that table again', () => {
    const bak = path.join(dir, 'bak-table');
    const first = backup('backup-table', bak, 'dfs://testdb', 'quotes');
    expect(backup('backup-table', bak, 'dfs://testdb', 'quotes').partitions).toBe(0);
    expect(backup('backup-table', bak, 'dfs://testdb', 'quotes', '--force').partitions).toBe(first.partitions);
  });

  it('backup text shows the bytes copied as a human size', () => {
    const r = runCli(['--home', home, 'backup-db', path.join(dir, 'bak-text'), 'dfs://testdb']);
    expect(r.stdout).toMatch(/^bytesCopied +\d+\.\d KB$/m);
  });
});
