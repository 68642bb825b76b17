// The bundle `bin/chunkvault` runs: chunkvault's own modules, from tsc's dist/, joined into a few
// files in dist/bundle/ (src/common/entry-points.ts says why and names the entries). Packages stay
// external: native bindings and piscina find their files relative to their own package.
import path from 'node:path';
import { ENTRY_POINTS } from './dist/common/entry-points.js';

const input = Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, file]) => [name, `dist/${file}`]));

export default {
  input,
  platform: 'node',
  external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
  transform: { define: { __CHUNKVAULT_BUNDLE__: 'true' } },
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunk-[hash].js',
    sourcemap: true,
  },
};
