import fs from 'node:fs';
import os from 'node:os';

/**
 * Lowers the calling thread's priority to `nice` (PIPELINE_DEFAULTS.restoreWorkerNice). On Linux a
 * nice value belongs to a thread, named by its id, which Node does not expose: /proc/thread-self
 * links to `<pid>/task/<tid>`. Raising a nice value needs no privilege. Anywhere this cannot be
 * done (another OS, no /proc) the thread keeps its priority: only speed depends on it.
 */
export function lowerThreadPriority(nice: number): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, nice);
  } catch {
    // See above: the priority is only a speed matter.
  }
}
