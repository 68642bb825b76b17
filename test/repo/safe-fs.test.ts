import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eachEntry } from '../../src/repo/safe-fs.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const dir = scratchDir('safe-fs');
afterAll(() => rmTmp(dir));

describe('eachEntry', () => {
  it('lists every entry of a directory many batches long, each with its kind as lstat sees it', () => {
    const d = path.join(dir, 'many');
    fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(d, `f${i}`), 'x');
    fs.symlinkSync('/etc', path.join(d, 'link'));
    const found = [...eachEntry(dir, ['many'], 3)].sort((a, b) => a.name.localeCompare(b.name));
    expect(found.map((e) => e.name)).toEqual(fs.readdirSync(d).sort((a, b) => a.localeCompare(b)));
    expect(found.filter((e) => e.kind === 'file')).toHaveLength(10);
    expect(found.find((e) => e.name === 'sub')?.kind).toBe('directory');
    expect(found.find((e) => e.name === 'link')?.kind).toBe('symlink');
  });

  it('lists nothing for a missing directory and refuses to go through a link', () => {
    expect([...eachEntry(dir, ['missing'])]).toEqual([]);
    fs.symlinkSync('/etc', path.join(dir, 'to-etc'));
    expect(() => [...eachEntry(dir, ['to-etc'])]).toThrow(/symbolic link/);
  });
});
