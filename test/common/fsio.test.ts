import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeFile, installIoHooks, makeDirs, makeDirsDeferred, openFile, writeAll } from '../../dist/common/fsio.js';
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

describe('makeDirsDeferred', () => {
  it('returns the parent of each level it made, top down, and nothing for a directory that exists', () => {
    const c = path.join(dir, 'a', 'b', 'c');
    expect(makeDirsDeferred(c)).toEqual([dir, path.join(dir, 'a'), path.join(dir, 'a', 'b')]);
    expect(fs.statSync(c).isDirectory()).toBe(true);
    expect(makeDirsDeferred(c)).toEqual([]);
  });

  it('makes a directory whose parent exists with one mkdir and no existence test of any level', () => {
    fs.mkdirSync(path.join(dir, 'p'));
    const exists = vi.spyOn(fs, 'existsSync');
    const mkdir = vi.spyOn(fs, 'mkdirSync');
    try {
      expect(makeDirsDeferred(path.join(dir, 'p', 'q'))).toEqual([path.join(dir, 'p')]);
      expect(exists).not.toHaveBeenCalled();
      expect(mkdir.mock.calls.map((c) => c[0])).toEqual([path.join(dir, 'p', 'q')]);
    } finally {
      exists.mockRestore();
      mkdir.mockRestore();
    }
  });

  it('returns the parent of a level it found missing when another thread makes that level first', () => {
    const leaf = path.join(dir, 'a', 'b');
    let tries = 0;
    // The second mkdir of the leaf (after its parent was made) finds it made meanwhile.
    installIoHooks({ entry: (op, p) => void (op === 'mkdir' && p === leaf && ++tries === 2 && fs.mkdirSync(leaf)) });
    expect(makeDirsDeferred(leaf)).toEqual([dir, path.join(dir, 'a')]);
    expect(tries).toBe(2);
  });

  it('fails with ENOTDIR when a file stands where a level should be, making nothing', () => {
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    expect(() => makeDirsDeferred(path.join(dir, 'f', 'g', 'h'))).toThrow(/ENOTDIR/);
    expect(fs.readdirSync(dir)).toEqual(['f']);
  });
});
