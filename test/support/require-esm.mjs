// A module task that tries require() on an ES module from its worker thread and answers with
// what happened (test/io/copy-worker.test.ts: a pool's workers run with require(esm) off).
import { createRequire } from 'node:module';

export default function run() {
  try {
    createRequire(import.meta.url)('./thread-nice.mjs');
    return 'loaded';
  } catch (err) {
    return err.code;
  }
}
