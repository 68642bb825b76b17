import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeFile, installIoHooks, makeDirs, openFile, writeAll } from '../../dist/common/fsio.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
beforeEach(() => (dir = scratchDir('fsio')));
afterEach(() => {
  installIoHooks(undefined);
  rmTmp(dir);
});

const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31) & 0xff));

describe('writeAll', () => {
  it('writes every byte when each write lands only a few of them', () => {
    const writes: number[] = [];
    installIoHooks({ write: (_fd, len) => Math.min(len, 7), wrote: (_fd, n) => void writes.push(n) });
    const file = path.join(dir, 'f');
    const fd = openFile(file, O_WRONLY | O_CREAT | O_EXCL);
    writeAll(fd, bytes(1000));
    closeFile(fd);
    expect(fs.readFileSync(file)).toEqual(bytes(1000));
    expect(writes.length).toBe(Math.ceil(1000 / 7));
  });

  it('throws EIO when a write makes no progress instead of looping', () => {
    installIoHooks({ write: () => 0 });
    const fd = openFile(path.join(dir, 'f'), O_WRONLY | O_CREAT | O_EXCL);
    try {
      expect(() => writeAll(fd, bytes(10))).toThrow(expect.objectContaining({ code: 'EIO' }));
    } finally {
      closeFile(fd);
    }
  });
});

describe('makeDirs', () => {
  it('fsyncs the parent of every level it creates', () => {
    const synced: number[] = [];
    installIoHooks({ synced: (fd, isDir) => void (isDir && synced.push(fs.fstatSync(fd).ino)) });
    makeDirs(path.join(dir, 'a', 'b', 'c'));
    const ino = (p: string) => fs.statSync(p).ino;
    expect(synced.sort()).toEqual([ino(dir), ino(path.join(dir, 'a')), ino(path.join(dir, 'a', 'b'))].sort());
  });
});
