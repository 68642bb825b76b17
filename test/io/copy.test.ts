import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyPipeline, diskOf } from '../../dist/io/index.js';
import { MiB, hashOfFile, randomFile, tmpDir } from './helpers.js';

let dir: string;
let disk: string;
let pipe: CopyPipeline;

beforeAll(() => {
  dir = tmpDir('copy');
  disk = diskOf(dir);
  randomFile(path.join(dir, 'src/big.bin'), 5 * MiB + 123);
  for (let i = 0; i < 20; i++) randomFile(path.join(dir, `src/small${i}.bin`), 1000 + i * 997);
  fs.writeFileSync(path.join(dir, 'src/empty.bin'), '');
  fs.symlinkSync(path.join(dir, 'src/big.bin'), path.join(dir, 'src/link.bin'));
  pipe = new CopyPipeline({ workers: 2, diskConcurrency: 2, blockSize: 256 * 1024, batchBytes: 64 * 1024 });
});

afterAll(async () => {
  await pipe.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const src = (name: string) => path.join(dir, 'src', name);

describe('CopyPipeline.copyFiles', () => {
  it('copies bytes exactly and reports the xxh3 an independent read+hash of the dst gives', async () => {
    const names = ['big.bin', 'empty.bin', ...Array.from({ length: 20 }, (_, i) => `small${i}.bin`)];
    const jobs = names.map((n) => ({ src: src(n), dst: path.join(dir, 'out1/nested', n) }));
    const res = await pipe.copyFiles(jobs, disk, disk);
    expect(res.map((r) => r.src)).toEqual(jobs.map((j) => j.src)); // input order kept across batches
    for (const r of res) {
      expect(fs.readFileSync(r.dst!).equals(fs.readFileSync(r.src))).toBe(true);
      expect(r.xxh3).toBe(hashOfFile(r.dst!));
      expect(r.xxh3).toMatch(/^[0-9a-f]{16}$/);
      expect(r.size).toBe(fs.statSync(r.src).size);
      expect(r.method).toBe('stream');
    }
  });

  it('copy-file-range gives the same bytes and checksum as stream', async () => {
    const cfr = new CopyPipeline({ workers: 1, diskConcurrency: 1, method: 'copy-file-range' });
    try {
      const [r] = await cfr.copyFiles([{ src: src('big.bin'), dst: path.join(dir, 'out2/big.bin') }], disk, disk);
      expect(r!.method).toBe('copy-file-range');
      expect(r!.xxh3).toBe(hashOfFile(src('big.bin')));
      expect(fs.readFileSync(r!.dst!).equals(fs.readFileSync(src('big.bin')))).toBe(true);
    } finally {
      await cfr.close();
    }
  });

  it('rejects an expectedXxh3 mismatch with CORRUPT and leaves no dst', async () => {
    const dst = path.join(dir, 'out3/big.bin');
    const err = await pipe.copyFiles([{ src: src('big.bin'), dst, expectedXxh3: '0123456789abcdef' }], disk, disk).catch((e) => e);
    expect(err).toMatchObject({ name: 'CvError', code: 'CORRUPT' });
    expect(err.message).toMatch(/checksum mismatch .*big\.bin.*0123456789abcdef/);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('refuses a symlink source with a one-line CORRUPT error and writes nothing', async () => {
    const dst = path.join(dir, 'out4/link.bin');
    const err = await pipe.copyFiles([{ src: src('link.bin'), dst }], disk, disk).catch((e) => e);
    expect(err).toMatchObject({ code: 'CORRUPT' });
    expect(err.message).toMatch(/symbolic link .*link\.bin/);
    expect(err.message).not.toContain('\n');
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('refuses a source whose size differs from expectedSize, naming the file and both sizes', async () => {
    const dst = path.join(dir, 'out5/small1.bin');
    const err = await pipe.copyFiles([{ src: src('small1.bin'), dst, expectedSize: 5 }], disk, disk).catch((e) => e);
    expect(err).toMatchObject({ code: 'CORRUPT' });
    expect(err.message).toMatch(/small1\.bin.*expected 5 bytes, found 1997/);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('never overwrites an existing dst: CONFLICT, and the existing file is untouched', async () => {
    const dst = path.join(dir, 'out6/small2.bin');
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.writeFileSync(dst, 'keep me');
    const err = await pipe.copyFiles([{ src: src('small2.bin'), dst }], disk, disk).catch((e) => e);
    expect(err).toMatchObject({ code: 'CONFLICT' });
    expect(fs.readFileSync(dst, 'utf8')).toBe('keep me');
  });

  it('reports the root cause when one batch of many fails, after every batch has settled', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => ({ src: src(`small${i}.bin`), dst: path.join(dir, 'out7', `s${i}`) }));
    jobs[13] = { ...jobs[13]!, src: src('missing.bin') };
    const err = await pipe.copyFiles(jobs, disk, disk).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect(err.message).toContain('missing.bin');
  });
});

describe('CopyPipeline.hashFiles', () => {
  it('returns a record per file and lists every bad file instead of throwing', async () => {
    const good = hashOfFile(src('small3.bin'));
    const res = await pipe.hashFiles(
      [
        { src: src('small3.bin'), expectedSize: 3991, expectedXxh3: good },
        { src: src('nope.bin') },
        { src: src('small4.bin'), expectedSize: 1 },
        { src: src('small5.bin'), expectedXxh3: '0000000000000000' },
        { src: src('link.bin') },
        { src: path.join(dir, 'src') },
      ],
      disk,
    );
    expect(res.map((r) => r.problem)).toEqual([undefined, 'missing', 'size', 'checksum', 'symlink', 'unreadable']);
    expect(res[0]).toEqual({ path: src('small3.bin'), size: 3991, xxh3: good, head: new Uint8Array(fs.readFileSync(src('small3.bin')).subarray(0, 64)) });
    expect(res[3]!.xxh3).toBe(hashOfFile(src('small5.bin')));
  });
});

/** The process's OS threads (Linux): a worker thread adds at least one. */
const threadCount = () => fs.readdirSync('/proc/self/task').length;

describe.skipIf(process.platform !== 'linux')('CopyPipeline threads', () => {
  it('starts no worker thread until its first task, so an operation that copies nothing boots none', async () => {
    const before = threadCount();
    const lazy = new CopyPipeline({ workers: 2, diskConcurrency: 2 });
    try {
      await new Promise((r) => setTimeout(r, 300)); // a thread piscina had started would be up by now
      expect(threadCount()).toBe(before);
      await lazy.hashFiles([{ src: src('small1.bin') }], disk);
      expect(threadCount()).toBeGreaterThan(before);
    } finally {
      await lazy.close();
    }
  });
});
