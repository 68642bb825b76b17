import fs from 'node:fs';

/**
 * `node cli-with-rusage.js <chunkvault args>`: runs the chunkvault CLI in this process and, at exit,
 * writes the process's own resource usage (main thread and every piscina worker) to
 * $CV_BENCH_RUSAGE. Exact where sampling /proc would miss the last moments before exit. A wrapper
 * rather than `node --import`, because workers inherit execArgv and would load a preload too.
 */
const out = process.env.CV_BENCH_RUSAGE;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({ userMicros: u.userCPUTime, systemMicros: u.systemCPUTime, maxRssKiB: u.maxRSS }));
  });
}
await import('../cli/main.js');
