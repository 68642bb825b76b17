import fs from 'node:fs';
import os from 'node:os';
import { pidAlive } from '../../common/lockfile.js';

/**
 * The kernel's start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), so a
 * recycled pid is not mistaken for the job that once had it. Undefined where /proc is missing.
 */
export function processStartTicks(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Fields 3.. of /proc/<pid>/stat (state first), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True while the process that ran a job is alive on this host (false once it died or was replaced). */
export function jobProcessAlive(node: string, pid: number | undefined, startTicks: string | undefined): boolean | undefined {
  if (node !== os.hostname() || !pid) return undefined; // another host: cannot tell
  if (!pidAlive(pid)) return false;
  const stat = procStat(pid);
  if (!stat) return true; // no /proc: kill(pid, 0) is all we know
  return startTicks === undefined || stat[19] === startTicks;
}
