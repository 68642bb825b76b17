import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyPipeline, diskOf, fsTypeOf } from '../../dist/io/index.js';
import { MiB, ROOT_REASON, hasCommand, hashOfFile, isRoot, mountTmpfs, randomFile, tmpDir, unmount } from './helpers.js';

let dir: string;
let srcFile: string;
const mounted: string[] = [];

beforeAll(() => {
  dir = tmpDir('dev');
  srcFile = path.join(dir, 'src.bin');
  randomFile(srcFile, 4 * MiB);
});

afterAll(() => {
  for (const m of mounted.reverse()) unmount(m);
  fs.rmSync(dir, { recursive: true, force: true });
});

function mountAt(name: string, size: string): string {
  const m = path.join(dir, name);
  fs.mkdirSync(m);
  mountTmpfs(m, size);
  mounted.push(m);
  return m;
}

describe('reflink where the file system cannot clone', () => {
  it('fails with a clear IO error naming the file systems, and leaves no dst (ext4 or whatever /tmp is)', async () => {
    const pipe = new CopyPipeline({ workers: 1, diskConcurrency: 1, method: 'reflink' });
    try {
      const dst = path.join(dir, 'out-reflink/x.bin');
      const err = await pipe.copyFiles([{ src: srcFile, dst }], diskOf(dir), diskOf(dir)).catch((e) => e);
      expect(err).toMatchObject({ code: 'IO' });
      expect(err.message).toMatch(/reflink .* not possible .*use method stream/);
      expect(err.message).toContain(fsTypeOf(dir));
      expect(fs.existsSync(dst)).toBe(false);
    } finally {
      await pipe.close();
    }
  });

  it.skipIf(!isRoot)('fails the same way into tmpfs (needs root to mount)', async () => {
    const t = mountAt('tmpfs-reflink', '16m');
    expect(fsTypeOf(t)).toBe('tmpfs');
    const pipe = new CopyPipeline({ workers: 1, diskConcurrency: 1, method: 'reflink' });
    try {
      const err = await pipe.copyFiles([{ src: srcFile, dst: path.join(t, 'x.bin') }], diskOf(dir), diskOf(t)).catch((e) => e);
      expect(err).toMatchObject({ code: 'IO' });
      expect(err.message).toMatch(/reflink .*not possible/);
      expect(fs.readdirSync(t)).toEqual([]);
    } finally {
      await pipe.close();
    }
  });
});

describe.skipIf(!isRoot)(`full destination (${isRoot ? 'root: tiny tmpfs' : ROOT_REASON})`, () => {
  it('copying 4 MiB into a 1 MiB tmpfs fails with IO "no space left on device" and leaves no partial file', async () => {
    const t = mountAt('tiny', '1m');
    const pipe = new CopyPipeline({ workers: 1, diskConcurrency: 1 });
    try {
      const dst = path.join(t, 'big.bin');
      const err = await pipe.copyFiles([{ src: srcFile, dst }], diskOf(dir), diskOf(t)).catch((e) => e);
      expect(err).toMatchObject({ name: 'CvError', code: 'IO' });
      expect(err.message).toMatch(/no space left/);
      expect(err.message).not.toContain('\n');
      expect(fs.existsSync(dst)).toBe(false);
    } finally {
      await pipe.close();
    }
  });
});

const xfsReason = !isRoot ? ROOT_REASON : !hasCommand('mkfs.xfs') ? 'mkfs.xfs not installed (apt package xfsprogs)' : '';
describe.skipIf(xfsReason !== '')(`reflink on XFS with reflink=1${xfsReason ? ` (skipped: ${xfsReason})` : ''}`, () => {
  it('clones with method reflink, and the clone hashes like the source', async () => {
    const img = path.join(dir, 'xfs.img');
    const m = path.join(dir, 'xfs');
    fs.mkdirSync(m);
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 320 * MiB); // sparse; XFS wants ~300 MiB minimum
    execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', img]);
    execFileSync('mount', ['-o', 'loop', img, m]);
    mounted.push(m);
    expect(fsTypeOf(m)).toBe('xfs');
    const inside = path.join(m, 'src.bin');
    fs.copyFileSync(srcFile, inside);
    const pipe = new CopyPipeline({ workers: 1, diskConcurrency: 1, method: 'reflink' });
    try {
      const [r] = await pipe.copyFiles([{ src: inside, dst: path.join(m, 'clone/src.bin') }], diskOf(m), diskOf(m));
      expect(r!.method).toBe('reflink');
      expect(r!.xxh3).toBe(hashOfFile(srcFile));
    } finally {
      await pipe.close();
    }
  });
});
