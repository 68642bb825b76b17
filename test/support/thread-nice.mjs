// A module task that answers with the nice value of the worker thread it runs on
// (test/io/copy-worker.test.ts: a restore's workers run at a lower priority). A nice value
// belongs to a thread on Linux; /proc/thread-self names this one.
import fs from 'node:fs';
import os from 'node:os';

export default function run() {
  return os.getPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()));
}
