// The floor under a many-shape backup's reads (docs/PERFORMANCE.md, "Session 18"): read every file
// under SRC whole with N worker threads (open, read, close), after a walk and a drop of the page,
// dentry and inode caches (root). LOCK=1 makes the threads take turns for each open, to show that
// reads, unlike creates (scripts/create-floor.mjs), gain nothing from it.
//
//   node scripts/read-floor.mjs SRC [N]
import fs from 'node:fs';
import path from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { takeTurns } from './take-turns.mjs';

if (isMainThread) {
  const [src, n] = [process.argv[2], Number(process.argv[3] ?? 4)];
  if (!src || !(n >= 1)) throw new Error('usage: read-floor.mjs SRC [threads]');
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  walk(src);
  const lock = new SharedArrayBuffer(4);
  // Contiguous slices of the walk's order, one per thread.
  const slices = Array.from({ length: n }, () => []);
  files.forEach((f, i) => slices[Math.floor((i * n) / files.length)].push(f));
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(slices.map((slice) => new Promise((resolve, reject) => new Worker(new URL(import.meta.url), { workerData: { slice, lock } }).on('exit', resolve).on('error', reject))));
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ threads: n, lock: process.env.LOCK === '1', files: files.length, readMs: Math.round(performance.now() - t0), userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) }));
} else {
  const inTurn = takeTurns(workerData.lock, process.env.LOCK === '1');
  const buf = Buffer.alloc(1 << 20);
  for (const f of workerData.slice) {
    const fd = inTurn(() => fs.openSync(f, 'r'));
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    fs.closeSync(fd);
  }
}
