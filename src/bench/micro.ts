/**
 * Micro benchmarks (tinybench) behind the design's performance facts:
 *   1. hashing 64 MiB: streaming Xxh3 (1 MiB updates, and one update) vs one-shot xxh3.xxh64;
 *   2. each copy method on one large file through the io CopyPipeline (fdatasync included);
 *   3. piscina overhead per empty task;
 *   4. small-file batching: 2000 × 4 KiB files, batches up to 8 MiB vs one file per task;
 *   5. the repository's blob codec: zstd levels and AES-256-GCM, encode and decode (micro-codec.ts).
 * Run: npm run bench:micro [-- --json] [-- --dir DIR] [-- --codec] (--codec: only group 5; DIR: where the copy tests write; default the
 * OS temp dir). Copies run with a warm page cache, so they measure the CPU path, not the disk.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { xxhash } from '../common/xxhash.js';
import { Piscina } from 'piscina';
import { Bench } from 'tinybench';
import { CopyPipeline, diskOf, type CopyMethod } from '../io/index.js';
import { codecMicro } from './micro-codec.js';
import { rows, type MicroRow } from './micro-rows.js';
import { isMainModule } from './sweep-cli.js';
import { poolEntry } from '../common/entry-points.js';

const MiB = 1 << 20;

const mbs = (bytes: number, ms: number) => `${((bytes / 1e6) / (ms / 1e3)).toFixed(0)} MB/s`;

async function hashing(): Promise<MicroRow[]> {
  const size = 64 * MiB;
  const buf = randomFillSync(Buffer.allocUnsafe(size));
  const bench = new Bench({ time: 1000, iterations: 10, warmupIterations: 2 });
  bench
    .add('streaming Xxh3, 1 MiB updates', () => {
      const h = xxhash.xxh3.Xxh3.withSeed(0n);
      for (let o = 0; o < size; o += MiB) h.update(buf.subarray(o, o + MiB));
      h.digest();
    })
    .add('streaming Xxh3, one 64 MiB update', () => {
      xxhash.xxh3.Xxh3.withSeed(0n).update(buf).digest();
    })
    .add('one-shot xxh3.xxh64(64 MiB)', () => {
      xxhash.xxh3.xxh64(buf);
    });
  await bench.run();
  return rows('hash 64 MiB', bench, (_t, ms) => mbs(size, ms));
}

async function copyMethods(dir: string): Promise<MicroRow[]> {
  const size = 256 * MiB;
  const src = path.join(dir, 'large.bin');
  const block = randomFillSync(Buffer.allocUnsafe(4 * MiB));
  const fd = fs.openSync(src, 'w');
  for (let o = 0; o < size; o += block.length) fs.writeSync(fd, block);
  fs.closeSync(fd);
  const disk = diskOf(dir);
  const out: MicroRow[] = [];
  for (const method of ['stream', 'copy-file-range', 'reflink'] as CopyMethod[]) {
    const pipe = new CopyPipeline({ workers: 2, diskConcurrency: 2, method });
    const dst = path.join(dir, `copy-${method}.bin`);
    const bench = new Bench({ time: 0, iterations: 5, warmupIterations: 1 });
    bench.add(`${method}, 256 MiB file`, async () => void (await pipe.copyFiles([{ src, dst, expectedSize: size }], disk, disk)), { beforeEach: () => fs.rmSync(dst, { force: true }) });
    await bench.run();
    out.push(...rows('copy method (warm cache, fdatasync included)', bench, (_t, ms) => mbs(size, ms)));
    await pipe.close();
    fs.rmSync(dst, { force: true });
  }
  return out;
}

async function piscinaOverhead(): Promise<MicroRow[]> {
  const tasks = 2000;
  const pool = new Piscina({ ...poolEntry('noop-worker'), minThreads: 2, maxThreads: 2 });
  const bench = new Bench({ time: 0, iterations: 10, warmupIterations: 2 });
  bench.add(`${tasks} empty tasks on 2 threads`, async () => void (await Promise.all(Array.from({ length: tasks }, (_, i) => pool.run(i)))));
  bench.add(`${tasks / 10} empty tasks one after another`, async () => {
    for (let i = 0; i < tasks / 10; i++) await pool.run(i);
  });
  await bench.run();
  await pool.destroy();
  return rows('piscina overhead', bench, (t, ms) => `${((ms * 1e3) / (t.name.includes('one after') ? tasks / 10 : tasks)).toFixed(1)} µs/task`);
}

async function smallFiles(dir: string): Promise<MicroRow[]> {
  const n = 2000;
  const srcDir = path.join(dir, 'small');
  fs.mkdirSync(srcDir, { recursive: true });
  const data = randomFillSync(Buffer.allocUnsafe(4096));
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(srcDir, `f${i}`), data);
  const disk = diskOf(dir);
  const out: MicroRow[] = [];
  for (const [name, opts] of [
    ['batchBytes 8 MiB (batches of up to 256 files)', { batchBytes: 8 * MiB }],
    ['batchFiles 1 (one task per file)', { batchFiles: 1 }],
  ] as const) {
    const pipe = new CopyPipeline({ workers: 2, diskConcurrency: 2, ...opts });
    const dstDir = path.join(dir, 'small-dst');
    const jobs = Array.from({ length: n }, (_, i) => ({ src: path.join(srcDir, `f${i}`), dst: path.join(dstDir, `f${i}`), expectedSize: 4096 }));
    const bench = new Bench({ time: 0, iterations: 3, warmupIterations: 1 });
    bench.add(name, async () => void (await pipe.copyFiles(jobs, disk, disk)), { beforeEach: () => fs.rmSync(dstDir, { recursive: true, force: true }) });
    await bench.run();
    out.push(...rows(`${n} × 4 KiB files (fdatasync per file)`, bench, (_t, ms) => `${((ms * 1e3) / n).toFixed(0)} µs/file`));
    await pipe.close();
  }
  return out;
}

export async function runMicro(dir = os.tmpdir(), onlyCodec = false): Promise<MicroRow[]> {
  if (onlyCodec) return codecMicro();
  const work = fs.mkdtempSync(path.join(dir, 'cv-micro-'));
  try {
    return [...(await hashing()), ...(await copyMethods(work)), ...(await piscinaOverhead()), ...(await smallFiles(work)), ...(await codecMicro())];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (isMainModule(import.meta.url)) {
  const json = process.argv.includes('--json');
  const dirAt = process.argv.indexOf('--dir');
  const result = await runMicro(dirAt > 0 ? process.argv[dirAt + 1] : undefined, process.argv.includes('--codec'));
  if (json) process.stdout.write(JSON.stringify({ node: process.version, cpus: os.availableParallelism(), rows: result }, null, 2) + '\n');
  else {
    let group = '';
    for (const r of result) {
      if (r.group !== group) process.stdout.write(`\n${(group = r.group)}\n`);
      const ms = r.meanMs === null ? `error: ${r.error}` : `${r.meanMs.toFixed(3)} ms ±${r.rmePercent!.toFixed(1)}% (${r.samples} runs)`;
      process.stdout.write(`  ${r.name.padEnd(48)} ${r.figure.padStart(14)}   ${ms}\n`);
    }
  }
}
