// The bundle `bin/chunkvault` runs: chunkvault's own modules, from tsc's dist/, joined into a few
// files in dist/bundle/ (src/common/entry-points.ts says why and names the entries). Packages stay
// external: native bindings and piscina find their files relative to their own package. Commander,
// plain JavaScript that every run loads, is bundled: as an external CommonJS package it went
// through Node's CJS loader on each start. 30 `--version` runs, twice each way: 4.10-4.44 s wall,
// 4.28-4.62 CPU s external; 3.96-4.01 s, 4.07-4.12 CPU s bundled (~10 ms a run).
import path from 'node:path';
import { ENTRY_POINTS } from './dist/common/entry-points.js';

const input = Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, file]) => [name, `dist/${file}`]));

export default {
  input,
  platform: 'node',
  external: (id) => !id.startsWith('.') && !path.isAbsolute(id) && id !== 'commander',
  transform: { define: { __CHUNKVAULT_BUNDLE__: 'true' } },
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunk-[hash].js',
    sourcemap: true,
  },
};
