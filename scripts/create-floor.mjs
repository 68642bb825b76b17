// The floor under a many-shape restore's file making (docs/PERFORMANCE.md, "Session 18"): recreate
// the tree of files under SRC at DST with N worker threads (mkdir -p of each directory, then per
// file: open O_CREAT|O_EXCL, one write of its size, close), then `sync -f`. Contents are zeros from
// memory: no reads, no checksums, no catalog. LOCK=1 makes the threads take turns for each mkdir
// and open, as chunkvault's workers do (src/io/disk-slots.ts holdCreate).
//
//   node scripts/create-floor.mjs SRC DST [N]     # e.g. a home's volumes/ into a new directory
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { takeTurns } from './take-turns.mjs';

if (isMainThread) {
  const [src, dst, n] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 4)];
  if (!src || !dst || !(n >= 1)) throw new Error('usage: create-floor.mjs SRC DST [threads]');
  const dirs = [];
  const walk = (d) => {
    const files = [];
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push([e.name, fs.statSync(p).size]);
    }
    if (files.length) dirs.push([path.relative(src, d), files]);
  };
  walk(src);
  const lock = new SharedArrayBuffer(4);
  const slices = Array.from({ length: n }, () => []);
  dirs.forEach((d, i) => slices[i % n].push(d));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(slices.map((slice) => new Promise((resolve, reject) => new Worker(new URL(import.meta.url), { workerData: { dst, slice, lock } }).on('exit', resolve).on('error', reject))));
  const t1 = performance.now();
  execFileSync('sync', ['-f', dst]);
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ threads: n, lock: process.env.LOCK === '1', dirs: dirs.length, files: dirs.reduce((a, d) => a + d[1].length, 0), makeMs: Math.round(t1 - t0), syncMs: Math.round(t2 - t1), userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) }));
} else {
  const inTurn = takeTurns(workerData.lock, process.env.LOCK === '1');
  const zeros = Buffer.alloc(1 << 20);
  const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
  for (const [rel, files] of workerData.slice) {
    const d = path.join(workerData.dst, rel);
    inTurn(() => fs.mkdirSync(d, { recursive: true }));
    for (const [name, size] of files) {
      const fd = inTurn(() => fs.openSync(path.join(d, name), O_WRONLY | O_CREAT | O_EXCL, 0o644));
      for (let at = 0; at < size; at += zeros.length) fs.writeSync(fd, zeros, 0, Math.min(zeros.length, size - at));
      fs.closeSync(fd);
    }
  }
}
