// A module task that holds its worker for 100 ms and answers with the worker's thread id
// (test/io/post-ahead.test.ts: a cold pool spreads its first tasks over every worker).
import { threadId } from 'node:worker_threads';

export default function run() {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  return threadId;
}
