import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS, commandNameOf, registersFor } from '../../src/cli/command-groups.js';
import { CLI, CLI_MODULES, ROOT, runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const HOOK = path.join(ROOT, 'test/support/record-modules.mjs');

/** The module URLs a CLI run loads (by default in tsc's layout), recorded by test/support/record-modules.mjs. */
function modulesLoadedBy(args: string[], dir: string, cli = CLI_MODULES): string[] {
  const log = path.join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['--import', HOOK, cli, ...args], { encoding: 'utf8', env: { ...process.env, CHUNKVAULT_HOME: undefined, CV_MODULE_LOG: log } });
  if (r.status !== 0) throw new Error(`chunkvault ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return [...new Set(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean))];
}

/** Modules that only some commands use: the bench, the generator, the data formats, the server, the pool, zstd. */
const HEAVY = [/\/dist\/bench\//, /\/dist\/generate\//, /\/dist\/dataio\//, /\/dist\/server\//, /node_modules\/piscina\//, /node_modules\/hyparquet/, /node_modules\/fastify\//, /@cloudpss\/zstd|node-gyp-build/, /node_modules\/cli-progress\//];
const heavyIn = (mods: string[]) => mods.filter((m) => HEAVY.some((re) => re.test(m)));

describe('command groups load lazily', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('lazy');
    const home = path.join(dir, 'home');
    for (const args of [['generate', '--dates', '2', '--symbols', '10', '--rows-per-symbol', '5'], ['backup-db', path.join(dir, 'bak'), 'dfs://testdb']]) {
      const r = runCli(['--home', home, ...args]);
      if (r.code !== 0) throw new Error(r.stderr);
    }
  });
  afterAll(() => rmTmp(dir));

  it('--version loads no command group at all', () => {
    const mods = modulesLoadedBy(['--version'], dir);
    expect(mods.filter((m) => /\/dist\/(repo|io|store)\//.test(m) || /\/dist\/(cli\/commands|engine\/index)/.test(m))).toEqual([]);
  });

  it('points loads neither the bench, generate, dataio, server, the pool, zstd nor the progress bar', () => {
    expect(heavyIn(modulesLoadedBy(['--home', path.join(dir, 'home'), 'points', path.join(dir, 'bak'), 'dfs://testdb'], dir))).toEqual([]);
  });

  it('a no-change backup loads none of them either', () => {
    const mods = modulesLoadedBy(['--home', path.join(dir, 'home'), 'backup-db', path.join(dir, 'bak'), 'dfs://testdb', '--json'], dir);
    expect(mods.some((m) => m.endsWith('/dist/engine/backup.js'))).toBe(true);
    expect(heavyIn(mods)).toEqual([]);
  });

  it('a backup that copies does load the pool', () => {
    const mods = modulesLoadedBy(['--home', path.join(dir, 'home'), 'backup-db', path.join(dir, 'bak'), 'dfs://testdb', '--force', '--json'], dir);
    expect(mods.some((m) => /node_modules\/piscina\//.test(m))).toBe(true);
  });

  it('a backup into an uncompressed, unencrypted v2 repository runs pack tasks in the pool without loading zstd, in any thread', () => {
    const mods = modulesLoadedBy(['--home', path.join(dir, 'home'), 'backup-db', path.join(dir, 'bak-v2-off'), 'dfs://testdb', '--repo-format', '2', '--compression', 'off', '--json'], dir);
    expect(mods.some((m) => m.endsWith('/dist/repo/pack-task.js'))).toBe(true);
    expect(mods.filter((m) => /@cloudpss\/zstd|node-gyp-build/.test(m))).toEqual([]);
  });

  it('the bundle loads only its own files and no package a no-change backup does not use', () => {
    const mods = modulesLoadedBy(['--home', path.join(dir, 'home'), 'backup-db', path.join(dir, 'bak'), 'dfs://testdb', '--json'], dir, CLI);
    expect(mods.some((m) => m.includes('/dist/bundle/'))).toBe(true);
    expect(mods.filter((m) => m.includes('/dist/') && !m.includes('/dist/bundle/'))).toEqual([]);
    expect(heavyIn(mods)).toEqual([]);
  });
});

describe('COMMAND_GROUPS', () => {
  it('names exactly the top-level commands each group registers', async () => {
    for (const g of COMMAND_GROUPS) {
      const program = new Command('chunkvault');
      for (const register of await g.load()) register(program);
      expect(program.commands.map((c) => c.name()).sort(), g.names.join(',')).toEqual([...g.names].sort());
    }
  });

  it('gives each command name to one group only', () => {
    const names = COMMAND_GROUPS.flatMap((g) => g.names);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('commandNameOf', () => {
  it('skips root options and the values they take', () => {
    expect(commandNameOf(['--home', 'points', '--json', 'backup-db', 'x'])).toBe('backup-db');
  });

  it('is undefined when only options are given', () => {
    expect(commandNameOf(['--version', '--json'])).toBeUndefined();
  });
});

describe('registersFor', () => {
  it('registers nothing for a bare --version', async () => {
    expect(await registersFor(['--version'])).toEqual([]);
  });

  it('registers only the owning group for a known command', async () => {
    expect(await registersFor(['points', 'a', 'b'])).toHaveLength(1);
  });

  it('registers every group for help', async () => {
    const all = (await Promise.all(COMMAND_GROUPS.map((g) => g.load()))).flat();
    expect(await registersFor(['--help'])).toEqual(all);
  });
});
