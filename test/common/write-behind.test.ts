import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WriteBehind } from '../../dist/common/write-behind.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let dir: string | undefined;
afterEach(() => {
  rmTmp(dir);
  dir = undefined;
});

describe('WriteBehind', () => {
  it('writes every chunk, in the order given, with a small in-flight limit', async () => {
    dir = tmpDir('write-behind');
    const file = path.join(dir, 'out');
    const fd = fs.openSync(file, 'w');
    const out = new WriteBehind(fd, 3000);
    const chunks = Array.from({ length: 200 }, (_, i) => Buffer.alloc(1 + ((i * 7919) % 2000), i % 251));
    for (const c of chunks) await out.write(c);
    await out.drain();
    fs.closeSync(fd);
    expect(fs.readFileSync(file).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('a failed write is thrown by drain, and settle waits without throwing', async () => {
    dir = tmpDir('write-behind');
    const file = path.join(dir, 'ro');
    fs.writeFileSync(file, '');
    const fd = fs.openSync(file, 'r');
    const out = new WriteBehind(fd, 1 << 20);
    await out.write(Buffer.from('abc')).catch(() => undefined);
    await expect(out.drain()).rejects.toMatchObject({ code: 'EBADF' });
    await out.settle();
    fs.closeSync(fd);
  });
});
