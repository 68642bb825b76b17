import fs from 'node:fs';

/**
 * Loaded with `node --import` into every chunkvault child the benchmark runs. At exit it writes the
 * process's own resource usage (all threads: main and piscina workers) to $CV_BENCH_RUSAGE, which
 * is exact where sampling /proc would miss the last moments before exit.
 */
const out = process.env.CV_BENCH_RUSAGE;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({ userMicros: u.userCPUTime, systemMicros: u.systemCPUTime, maxRssKiB: u.maxRSS }));
  });
}
