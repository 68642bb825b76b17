import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import xxhash from '@node-rs/xxhash';
import { newMasterKey, type BlobCodecSpec } from '../../dist/repo/codec/index.js';
import run, { type ReadResult, type WrittenFile } from '../../dist/repo/pack-task.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Compressible bytes with noise, so zstd has work and the sizes differ from blob to blob. */
function columnLike(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i % (97 + seed)) ^ ((i * 2654435761 + seed) >>> 29 === 0 ? 0xff : 0);
  return b;
}

const ctx = { buf: Buffer.alloc(256 * 1024), stopped: () => false, acquire: () => true, progress: () => {}, create: <T>(make: () => T): T => make() };
const xxh3 = (b: Buffer) => xxhash.xxh3.xxh64(b).toString(16).padStart(16, '0');

async function roundTrip(codec: BlobCodecSpec) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-pack-write-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, 'repo'));
  // 9.5 MiB and 5 MiB files span several 4 MiB blobs (compressed on the thread pool, several at once); the rest are one small blob each.
  const sizes = [9.5 * 2 ** 20, 5 * 2 ** 20, 1000, 3 * 2 ** 20, 0, 70_000];
  const files = sizes.map((size, i) => {
    const src = path.join(dir, 'src', `c${i}.col`);
    fs.writeFileSync(src, columnLike(size, i));
    return { src, name: `c${i}.col`, size };
  });
  const backend = { kind: 'local' as const, root: path.join(dir, 'repo') };
  const pack = 'ab'.repeat(16);
  const w = (await run({ op: 'write', backend, codec, pack, entries: [{ key: 'k1', files: files.slice(0, 3) }, { key: 'k2', files: files.slice(3) }] }, ctx)) as { packSize: number; entries: { key: string; files: WrittenFile[] }[] };
  const written = w.entries.flatMap((e) => e.files);
  const read = (await run({ op: 'read', backend, codec, pack, packSize: w.packSize, files: written.map(({ head: _h, ...f }) => f) }, ctx)) as ReadResult[];
  return { files, written, read, packSize: w.packSize };
}

describe('the pack writer', () => {
  for (const codec of [
    { compression: 'default', encryption: 'none' },
    { compression: 'default', encryption: 'aes-256-gcm', masterKey: newMasterKey() },
    { compression: 'off', encryption: 'aes-256-gcm', masterKey: newMasterKey() },
    { compression: 'off', encryption: 'none' },
  ] as BlobCodecSpec[]) {
    it(`lays blobs back to back in read order and reads every file back intact (compression ${codec.compression}, ${codec.encryption})`, async () => {
      const { files, written, read, packSize } = await roundTrip(codec);
      let end = 16;
      for (const [i, f] of written.entries()) {
        expect(f.xxh3).toBe(xxh3(fs.readFileSync(files[i]!.src)));
        for (const b of f.blobs) {
          expect(b.offset).toBe(end);
          end += b.length;
        }
        expect(f.blobs.reduce((a, b) => a + b.rawLength, 0)).toBe(f.size);
      }
      expect(end).toBe(packSize);
      expect(read.map((r) => [r.problem, r.xxh3])).toEqual(written.map((f) => [undefined, f.xxh3]));
    });
  }
});

describe('reading entries into stages the worker makes', () => {
  async function packOfOne() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-pack-stage-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'repo'));
    const src = path.join(dir, 'c0.col');
    fs.writeFileSync(src, columnLike(5000, 1));
    const backend = { kind: 'local' as const, root: path.join(dir, 'repo') };
    const codec = { compression: 'default', encryption: 'none' } as BlobCodecSpec;
    const pack = 'cd'.repeat(16);
    const w = (await run({ op: 'write', backend, codec, pack, entries: [{ key: 'k1', files: [{ src, name: 'c0.col', size: 5000 }] }] }, ctx)) as { packSize: number; entries: { files: WrittenFile[] }[] };
    const files = w.entries[0]!.files.map(({ head: _h, ...f }) => f);
    const reads = (stage: string) => ({ op: 'reads' as const, backend, codec, reads: [{ pack, packSize: w.packSize, files: files.map((f) => ({ ...f, dst: path.join(stage, f.name) })), makeDir: stage }] });
    const readsOf = (stages: string[]) => ({ ...reads(stages[0]!), reads: stages.map((stage) => reads(stage).reads[0]!) });
    return { dir, src, reads, readsOf, packSize: w.packSize };
  }

  const openFds = () => fs.readdirSync('/proc/self/fd').length;

  it('makes the stage directory, then writes the files of the entry into it', async () => {
    const { dir, src, reads } = await packOfOne();
    const stage = path.join(dir, '.stage');
    await run(reads(stage), ctx);
    expect(fs.readFileSync(path.join(stage, 'c0.col'))).toEqual(fs.readFileSync(src));
  });

  it('refuses a stage name already taken (a link placed there) with CONFLICT and writes nothing through it', async () => {
    const { dir, reads } = await packOfOne();
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const stage = path.join(dir, '.stage');
    fs.symlinkSync(elsewhere, stage);
    await expect(Promise.resolve().then(() => run(reads(stage), ctx))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it('makes every stage and file of a task in one hold of the create slot, before writing any of them', async () => {
    const { dir, src, readsOf } = await packOfOne();
    const stages = ['.s1', '.s2', '.s3'].map((s) => path.join(dir, s));
    const holds: number[][] = [];
    const counting = { ...ctx, create: <T>(make: () => T): T => {
      const made = make();
      holds.push(stages.map((s) => (fs.existsSync(path.join(s, 'c0.col')) ? fs.statSync(path.join(s, 'c0.col')).size : -1)));
      return made;
    } };
    await run(readsOf(stages), counting);
    // One hold, after which every file existed and none had been written yet.
    expect(holds).toEqual([[0, 0, 0]]);
    for (const s of stages) expect(fs.readFileSync(path.join(s, 'c0.col'))).toEqual(fs.readFileSync(src));
  });

  it('closes every file it made when a later entry of the task fails', async () => {
    const { dir, readsOf } = await packOfOne();
    const stages = ['.s1', '.s2', '.s3'].map((s) => path.join(dir, s));
    const task = readsOf(stages);
    task.reads[2]!.packSize += 1; // the index disagrees with the pack: CORRUPT, after two entries were written
    const before = openFds();
    await expect(Promise.resolve().then(() => run(task, ctx))).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(openFds()).toBe(before);
    expect(fs.statSync(path.join(stages[2]!, 'c0.col')).size).toBe(0);
  });
});
