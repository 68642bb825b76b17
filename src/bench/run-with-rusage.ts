import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * `node run-with-rusage.js <program.js> <args>`: runs a Node program (the bench passes the built
 * chunkvault CLI) in this process and, at exit, writes the process's own resource usage (main
 * thread and every piscina worker) to $CV_BENCH_RUSAGE. Exact where sampling /proc would miss the
 * last moments before exit. A wrapper rather than `node --import`, because workers inherit
 * execArgv and would load a preload too. The program is a path given at run time, not an import:
 * the bench runs the CLI as an operator would and does not depend on its modules.
 */
const program = process.argv[2];
if (!program) {
  process.stderr.write('usage: node run-with-rusage.js <program.js> [args...]\n');
  process.exit(2);
}
const out = process.env.CV_BENCH_RUSAGE;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({ userMicros: u.userCPUTime, systemMicros: u.systemCPUTime, maxRssKiB: u.maxRSS }));
  });
}
// The program parses process.argv as if it had been started itself: [node, program, ...args].
process.argv.splice(1, 1);
await import(pathToFileURL(program).href);
