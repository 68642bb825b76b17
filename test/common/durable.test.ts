import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../dist/common/durable.js';
import { installIoHooks } from '../../dist/common/fsio.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
beforeEach(() => (dir = scratchDir('durable')));
afterEach(() => {
  installIoHooks(undefined);
  rmTmp(dir);
});

const text = 'x'.repeat(20_000);

describe('writeFileAtomic', () => {
  it('makes a complete file when every write is short', () => {
    installIoHooks({ write: (_fd, len) => Math.max(1, len >> 2) });
    const file = path.join(dir, 'm.json');
    writeFileAtomic(file, text);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it('never renames a temp cut short by ENOSPC into place, and removes it', () => {
    const file = path.join(dir, 'm.json');
    fs.writeFileSync(file, 'old');
    let calls = 0;
    installIoHooks({
      write: (_fd, len) => {
        if (++calls > 1) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return Math.min(len, 8192);
      },
    });
    expect(() => writeFileAtomic(file, text)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['m.json']);
  });
});
