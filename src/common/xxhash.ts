import { createRequire } from 'node:module';

/**
 * @node-rs/xxhash, loaded by require. Imported from an ES module, its 29 KB CommonJS entry is
 * scanned for export names by Node's cjs-module-lexer in every thread that imports it, and V8
 * compiled that scanner's loops with TurboFan in each: `parseSource` alone was 0.68 s of compile
 * time over the five threads of a many-shape backup-all (--trace-opt), on a 2-core machine.
 */
export const xxhash = createRequire(import.meta.url)('@node-rs/xxhash') as typeof import('@node-rs/xxhash');
