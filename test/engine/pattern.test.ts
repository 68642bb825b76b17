import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePattern } from '../../dist/engine/pattern.js';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { DB, backedUpSource, scratchDir } from './helpers-restore.js';

describe('partition patterns', () => {
  it('% matches any run and ? exactly one character, over paths that include the database name', () => {
    const key4 = parsePattern('%/Key4/tp/%');
    expect(key4.matches('testdb', '/Key4/tp/20120101')).toBe(true);
    expect(key4.matches('testdb', '/Key3/tp/20120101')).toBe(false);
    const one = parsePattern('/testdb/Key3/tp/2012010?');
    expect(one.matches('testdb', '/Key3/tp/20120102')).toBe(true);
    expect(one.matches('testdb', '/Key3/tp/201201023')).toBe(false);
    expect(one.matches('otherdb', '/Key3/tp/20120102')).toBe(false);
    expect(parsePattern('%').all).toBe(true);
    expect(parsePattern('%/Key4/%').all).toBe(false);
  });

  it('characters outside names, .., empty and relative patterns are refused as USAGE', () => {
    for (const bad of ['', 'Key1', '[a', '%/../%', '%//x', '/testdb/Key1;rm', '/testdb/Key 1']) expect(() => parsePattern(bad), bad).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  describe('on the CLI', () => {
    let dir: string, bak: string;
    beforeAll(async () => {
      dir = scratchDir('pattern');
      ({ bak } = await backedUpSource(dir));
    });
    afterAll(() => rmTmp(dir));

    it('restore with a bad pattern exits 2 with one line and creates nothing in a new home', () => {
      const target = path.join(dir, 'fresh');
      const r = runCli(['--home', target, 'restore', bak, DB, 'quotes', '[Key1]']);
      expect(r.code).toBe(2);
      expect(r.errLines).toHaveLength(1);
      expect(r.stderr).toContain('bad partition pattern');
      expect(fs.existsSync(target)).toBe(false);
    });
  });
});
