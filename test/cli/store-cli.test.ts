import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../dist/common/errors.js';
import { Cluster, append, createDatabase, databaseDigest, initCluster, type Scheme } from '../../dist/store/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { listFiles, rmTmp, tmpDir } from '../helpers/tmp.js';

let root: string;
let home: string;
beforeAll(() => {
  root = tmpDir('cli');
  home = path.join(root, 'h');
  const { c, db } = makeTradesDb(home, 'OLAP', 'testdb');
  append(c, db, 'trades', tradeRows(20, ['IBM', 'MSFT'], [D20120101]));
});
afterAll(() => rmTmp(root));

/** The documented failure shape: the exit code, and exactly one line on stderr, "chunkvault: ...". */
function expectOneLineError(r: CliResult, exit: number, re: RegExp): void {
  expect({ code: r.code, errLines: r.errLines }).toMatchObject({ code: exit, errLines: [expect.stringMatching(re)] });
  expect(r.errLines[0]).toMatch(/^chunkvault: /);
  expect(r.stdout).toBe('');
}

describe('exit codes', () => {
  it('the documented exit codes are stable', () => {
    expect(EXIT).toMatchObject({ OK: 0, INTERNAL: 1, USAGE: 2, NOT_FOUND: 3, CONFLICT: 4, LOCKED: 5, IO: 6, CORRUPT: 7 });
  });
});

describe('bad input through the CLI', () => {
  it.each([['describe'], ['partitions'], ['digest']])('db %s of an unknown database exits 3 with one line naming it', (cmd) => {
    expectOneLineError(runCli(['--home', home, 'db', cmd, 'dfs://nope']), 3, /database dfs:\/\/nope does not exist/);
  });

  it.each([['partitions'], ['digest']])('db %s --table of an unknown table exits 3 with one line naming it', (cmd) => {
    expectOneLineError(runCli(['--home', home, 'db', cmd, 'dfs://testdb', '--table', 'nope']), 3, /table nope does not exist in dfs:\/\/testdb/);
  });

  it('a database path without dfs:// exits 2', () => {
    expectOneLineError(runCli(['--home', home, 'db', 'describe', 'testdb']), 2, /bad database path "testdb"/);
  });

  it('a home directory that is not a cluster exits 3 and is left empty', () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    expectOneLineError(runCli(['--home', empty, 'db', 'list']), 3, /is not a chunkvault cluster home/);
    expect(fs.readdirSync(empty)).toEqual([]);
  });

  it('a home that does not exist exits 3 and is not created', () => {
    const missing = path.join(root, 'missing');
    expectOneLineError(runCli(['--home', missing, 'db', 'list']), 3, /does not exist/);
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('no --home and no CHUNKVAULT_HOME exits 2', () => {
    expectOneLineError(runCli(['db', 'list']), 2, /no cluster home/);
  });

  it('CHUNKVAULT_HOME is used when --home is not given', () => {
    const r = runCli(['db', 'list', '--json'], { CHUNKVAULT_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).map((d: { dbPath: string }) => d.dbPath)).toEqual(['dfs://testdb']);
  });

  it('a damaged cluster.json exits 7 (CORRUPT)', () => {
    const bad = path.join(root, 'bad-cfg');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'cluster.json'), '{"format": 1, "nod');
    expectOneLineError(runCli(['--home', bad, 'db', 'list']), 7, /not valid JSON/);
  });

  it('a bad --size exits 2 and creates nothing', () => {
    const h = path.join(root, 'size');
    expectOneLineError(runCli(['--home', h, 'generate', '--size', '2XB']), 2, /bad size "2XB"/);
    expect(fs.existsSync(h)).toBe(false);
  });

  it('an unknown option exits 2 and names the option on the first stderr line', () => {
    const r = runCli(['--home', home, 'db', 'list', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.errLines[0]).toMatch(/unknown option '--bogus'/);
    expect(r.stdout).toBe('');
  });

  it('an unknown command exits 2', () => {
    const r = runCli(['--home', home, 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.errLines[0]).toMatch(/unknown command 'frobnicate'/);
  });

  it('with --json an error is also printed on stdout as {error: {code, exitCode, message}}', () => {
    const r = runCli(['--home', home, 'db', 'describe', 'dfs://nope', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'NOT_FOUND', exitCode: 3, message: expect.stringContaining('dfs://nope') } });
    expect(r.errLines).toHaveLength(1);
  });

  it('inspection commands change nothing in the home', () => {
    const before = listFiles(home).map((f) => [f, fs.statSync(path.join(home, f)).mtimeMs]);
    for (const args of [['db', 'list'], ['db', 'describe', 'dfs://testdb'], ['db', 'partitions', 'dfs://testdb'], ['db', 'digest', 'dfs://testdb']]) {
      const r = runCli(['--home', home, ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(listFiles(home).map((f) => [f, fs.statSync(path.join(home, f)).mtimeMs])).toEqual(before);
  });
});

describe('bad input through the library', () => {
  it.each<[string, unknown]>([
    ['HASH with 0 buckets', { type: 'HASH', colType: 'SYMBOL', buckets: 0 }],
    ['RANGE with one bound', { type: 'RANGE', colType: 'INT', bounds: [1] }],
    ['RANGE bounds not increasing', { type: 'RANGE', colType: 'INT', bounds: [5, 1] }],
    ['VALUE on a DOUBLE column', { type: 'VALUE', colType: 'DOUBLE', values: [1.5] }],
    ['LIST with a value in two lists', { type: 'LIST', colType: 'SYMBOL', lists: [['a'], ['a', 'b']] }],
    ['COMPO of one level', { type: 'COMPO', levels: [{ type: 'HASH', colType: 'INT', buckets: 2 }] }],
    ['unknown partition type', { type: 'SPLIT', colType: 'INT' }],
  ])('createDatabase with a bad scheme (%s) throws USAGE and creates nothing', (_name, scheme) => {
    const h = path.join(root, 'scheme');
    if (!fs.existsSync(h)) initCluster(h);
    const c = new Cluster(h);
    const before = listFiles(h);
    expect(() => createDatabase(c, 'dfs://s', 'OLAP', scheme as Scheme)).toThrow(expect.objectContaining({ name: 'CvError', code: 'USAGE' }));
    expect(listFiles(h)).toEqual(before);
  });

  it('createDatabase with an unknown engine throws USAGE', () => {
    const c = new Cluster(home);
    expect(() => createDatabase(c, 'dfs://e', 'ROW' as 'OLAP', { type: 'HASH', colType: 'INT', buckets: 2 })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('createDatabase of an existing database throws CONFLICT', () => {
    const c = new Cluster(home);
    expect(() => createDatabase(c, 'dfs://testdb', 'OLAP', { type: 'HASH', colType: 'INT', buckets: 2 })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
  });

  const good = () => tradeRows(3, ['IBM'], [D20120101]);
  it.each<[string, () => Record<string, unknown[]>]>([
    ['a string in an INT column', () => ({ ...good(), qty: [1, 'two', 3] })],
    ['a fraction in an INT column', () => ({ ...good(), qty: [1, 2.5, 3] })],
    ['a number in a SYMBOL column', () => ({ ...good(), symbol: ['IBM', 7, 'IBM'] })],
    ['NaN in a DOUBLE column', () => ({ ...good(), price: [1, Number.NaN, 3] })],
    ['an INT beyond 32 bits', () => ({ ...good(), qty: [1, 2 ** 40 + 5, 3] })],
    ['a TIMESTAMP beyond 2^53', () => ({ ...good(), time: [1, 2 ** 60, 3] })],
    ['a missing column', () => {
      const { qty: _q, ...rest } = good();
      return rest;
    }],
    ['an extra column', () => ({ ...good(), extra: [1, 2, 3] })],
    ['columns of different lengths', () => ({ ...good(), qty: [1, 2] })],
  ])('append with %s throws USAGE (type mismatch) and changes nothing', (_name, rows) => {
    const c = new Cluster(home);
    const before = { files: listFiles(home), digest: databaseDigest(c, 'dfs://testdb') };
    let err: unknown;
    try {
      append(c, 'dfs://testdb', 'trades', rows());
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'CvError', code: 'USAGE' });
    expect(listFiles(home)).toEqual(before.files);
    expect(databaseDigest(c, 'dfs://testdb')).toEqual(before.digest);
  });

  it('append to an unknown table throws NOT_FOUND', () => {
    expect(() => append(new Cluster(home), 'dfs://testdb', 'nope', good())).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
