/**
 * Every file chunkvault starts as a worker thread, a worker's module task or a child process,
 * named in one place, so that one build can lay them out twice:
 * - tsc's `dist/<folder>/<file>.js`, one module per source file: what `dist/index.js` (the
 *   library) and the tests import;
 * - rolldown's `dist/bundle/<name>.js`, flat: what `bin/chunkvault` runs (rolldown.config.mjs).
 *   A cold backup's main thread loaded ~150 modules and each worker ~50; the bundle's no-change
 *   backup loads 28 files of chunkvault's instead of 123, and a cold many-shape backup-all was
 *   faster in 5 of 6 pairs (docs/PERFORMANCE.md, sessions 15 and 16).
 * A relative `new URL('./copy-worker.js', import.meta.url)` breaks in the bundle, where the
 * calling code sits in a shared chunk; `entryUrl` resolves a name in either layout.
 */
import { fileURLToPath } from 'node:url';

/** Each entry's path below tsc's dist/. Its bundle file is `<name>.js`. */
export const ENTRY_POINTS = {
  cli: 'cli/main.js',
  server: 'server/main.js',
  'copy-worker': 'io/copy-worker.js',
  'pack-task': 'repo/pack-task.js',
  'pack-copy-task': 'repo/pack-copy-task.js',
  'pack-recode-task': 'repo/pack-recode-task.js',
  's3-agent': 'repo/backend/s3-agent.js',
  'load-worker': 'dataio/load-worker.js',
  'export-worker': 'dataio/export-worker.js',
  'generate-worker': 'generate/generate-worker.js',
  'noop-worker': 'bench/noop-worker.js',
  'run-with-rusage': 'bench/run-with-rusage.js',
  'restore-plan-probe': 'bench/restore-plan-probe.js',
} as const;

export type EntryName = keyof typeof ENTRY_POINTS;

/** Replaced by `true` in the bundle (rolldown's define); undeclared under tsc. */
declare const __CHUNKVAULT_BUNDLE__: boolean | undefined;

/** True when this code runs from dist/bundle/. */
export const BUNDLED = typeof __CHUNKVAULT_BUNDLE__ !== 'undefined' && __CHUNKVAULT_BUNDLE__;

/** The URL of an entry in the layout this code runs from (this file is dist/common/ under tsc). */
export function entryUrl(name: EntryName): URL {
  return BUNDLED ? new URL(`./${name}.js`, import.meta.url) : new URL(`../${ENTRY_POINTS[name]}`, import.meta.url);
}

/** The same as a file path, for spawning a process. */
export function entryPath(name: EntryName): string {
  return fileURLToPath(entryUrl(name));
}

/**
 * A piscina pool's `filename` and `execArgv` for an entry. piscina's worker first tries
 * `require()` on its filename, then `import()`. With require(esm), on by default since Node
 * 20.19, that require of an ES module graph with top-level await (the copy worker's) aborted a
 * CI run once: "FATAL ERROR: v8::Module::IsGraphAsync" from `loadESMFromCJS` (a V8 check on a
 * module not yet instantiated; jhipster/generator-jhipster#32899 met it through piscina too). With
 * require(esm) off in the workers, that require throws ERR_REQUIRE_ESM and piscina imports. The
 * process's own execArgv stays first: the test fault layer's `--import` runs in every worker.
 */
export function poolEntry(name: EntryName): { filename: string; execArgv: string[] } {
  const off = process.allowedNodeEnvironmentFlags.has('--experimental-require-module') ? ['--no-experimental-require-module'] : [];
  return { filename: entryUrl(name).href, execArgv: [...process.execArgv, ...off] };
}
