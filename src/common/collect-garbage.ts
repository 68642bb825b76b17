import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection, now. A long synchronous phase (a scan of a restore point at 100,000
 * partitions) leaves most of what it allocated in the old generation until the heap reaches its
 * next limit, and the next phase's memory lands on top of it: in check, ~150 MB of garbage lay
 * beside the hashing workers when they started, for a peak RSS of 295-355 MB (issue 14). gc() is
 * got as jest's leak detector gets it: the flag exposes it in contexts made after it is set.
 */
let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
