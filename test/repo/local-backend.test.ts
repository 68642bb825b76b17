import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backendFor, type Backend } from '../../dist/repo/backend/index.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let dir: string;
let b: Backend;
beforeEach(() => {
  dir = tmpDir('backend');
  b = backendFor({ kind: 'local', root: dir });
});
afterEach(() => rmTmp(dir));

describe('the local backend', () => {
  it('writes an object under nested prefixes and reads it back whole and by range', () => {
    b.write('packs/ab/abcd', Buffer.from('hello world'));
    expect(Buffer.from(b.read('packs/ab/abcd')!).toString()).toBe('hello world');
    expect(Buffer.from(b.read('packs/ab/abcd', { offset: 6, length: 5 })!).toString()).toBe('world');
    expect(b.stat('packs/ab/abcd')).toEqual({ name: 'packs/ab/abcd', size: 11 });
  });

  it('refuses a range past the end of an object as CORRUPT', () => {
    b.write('index/x', Buffer.from('abc'));
    expect(() => b.read('index/x', { offset: 2, length: 5 })).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('a create-only write refuses an existing name and keeps its content', () => {
    b.write('points/p.json', Buffer.from('one'), { createOnly: true });
    expect(() => b.write('points/p.json', Buffer.from('two'), { createOnly: true })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(Buffer.from(b.read('points/p.json')!).toString()).toBe('one');
    expect(fs.readdirSync(path.join(dir, 'points'))).toEqual(['p.json']);
  });

  it('an aborted streamed write leaves no name and no temp behind', () => {
    const s = b.create('packs/00/0011');
    s.append(Buffer.from('partial'));
    s.abort();
    expect(b.stat('packs/00/0011')).toBeUndefined();
    expect(fs.readdirSync(path.join(dir, 'packs', '00'))).toEqual([]);
  });

  it('lists objects two levels under a prefix, sorted, with links reported as irregular', () => {
    b.write('packs/bb/b2', Buffer.from('2'));
    b.write('packs/aa/a1', Buffer.from('1'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'packs', 'aa', 'evil'));
    expect(b.list('packs/')).toEqual([
      { name: 'packs/aa/a1', size: 1 },
      { name: 'packs/aa/evil', size: 0, irregular: 'symlink' },
      { name: 'packs/bb/b2', size: 1 },
    ]);
  });

  it('reads a span given at open with one pread, and serves its blobs and any read outside it', () => {
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    b.write('packs/ab/span', data);
    const reads = vi.spyOn(fs, 'readSync');
    try {
      const r = b.open('packs/ab/span', { offset: 1000, length: 5000 })!;
      const got = (offset: number, length: number) => {
        const dst = Buffer.alloc(length + 3); // a buffer larger than the read, as a worker's blob buffer is
        r.readAt(dst, offset, length);
        return dst.subarray(0, length);
      };
      for (let at = 1000; at < 6000; at += 500) expect(got(at, 500).equals(data.subarray(at, at + 500))).toBe(true);
      expect(reads).toHaveBeenCalledTimes(1);
      expect(got(8000, 100).equals(data.subarray(8000, 8100))).toBe(true); // outside the span: read on its own
      expect(reads).toHaveBeenCalledTimes(2);
      r.close();
    } finally {
      reads.mockRestore();
    }
  });

  it('a span that runs past the end of its object reads what is there and still refuses a read past the end', () => {
    b.write('packs/ab/short', Buffer.from('0123456789'));
    const r = b.open('packs/ab/short', { offset: 4, length: 1 << 20 })!;
    const dst = Buffer.alloc(4);
    r.readAt(dst, 4, 4);
    expect(dst.toString()).toBe('4567');
    expect(() => r.readAt(Buffer.alloc(8), 6, 8)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    r.close();
  });

  it('refuses to read through a symbolic link and rejects names with ..', () => {
    fs.mkdirSync(path.join(dir, 'index'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'index', 'ln'));
    expect(() => b.read('index/ln')).toThrow(/symbolic link/);
    expect(() => b.read('index/../../etc/passwd')).toThrow(/unsafe repository object name/);
  });

  it('leaves out of a listing a temp renamed away while the directory is read, as a worker writing an index does', async () => {
    fs.mkdirSync(path.join(dir, 'index'));
    // Another process makes temps and renames them to their names as fast as it can, the way a
    // worker writes a pack index while the main thread lists the indexes.
    const churn = `const fs=require('fs'),p=require('path');const d=process.argv[1];for(let i=0;;i++){const t=p.join(d,'.tmp-'+i);fs.writeFileSync(t,'x');fs.renameSync(t,p.join(d,'ix'+(i%50)));}`;
    const child = spawn(process.execPath, ['-e', churn, path.join(dir, 'index')], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 1500; i++) for (const o of b.list('index/')) expect(o.name.startsWith('index/')).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
