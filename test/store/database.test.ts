import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { addValuePartitions, loadDatabase, type Scheme } from '../../dist/store/index.js';
import { D20120101, makeTradesDb, tradesScheme } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

function setup() {
  home = tmpDir('database');
  const { c, db } = makeTradesDb(path.join(home, 'h'));
  return { c, db, file: path.join(c.dbDir(db), 'database.json') };
}

const dates = (s: Scheme) => (s.type === 'COMPO' && s.levels[1]!.type === 'VALUE' ? s.levels[1]!.values : []);

describe('addValuePartitions', () => {
  it('appends to a VALUE level only the values it lacks', () => {
    const { c, db } = setup();
    addValuePartitions(c, db, new Map([[1, [D20120101 + 2, D20120101, D20120101 + 1, D20120101 + 2]]]));
    expect(dates(loadDatabase(c, db).scheme)).toEqual([D20120101, D20120101 + 2, D20120101 + 1]);
  });

  it('leaves database.json as it was when every value is there already', () => {
    const { c, db, file } = setup();
    const before = fs.statSync(file).ino;
    addValuePartitions(c, db, new Map([[1, [D20120101]]]));
    expect(fs.statSync(file).ino).toBe(before); // rewritten files get a new inode (temp + rename)
  });

  it('refuses values for a level that is not VALUE as CONFLICT, changing nothing', () => {
    const { c, db } = setup();
    let code: unknown;
    try {
      addValuePartitions(c, db, new Map([[0, ['IBM']]]));
    } catch (err) {
      code = err instanceof CvError ? err.code : err;
    }
    expect(code).toBe('CONFLICT');
    expect(loadDatabase(c, db).scheme).toEqual(tradesScheme());
  });
});
