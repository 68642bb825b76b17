import { usage } from './errors.js';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, KIB: 1024, M: 1024 ** 2, MB: 1024 ** 2, MIB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3, GIB: 1024 ** 3, T: 1024 ** 4, TB: 1024 ** 4, TIB: 1024 ** 4 };

/** Parses "2GB", "200MB", "512k", "1048576" (binary multiples, as operators mean them for disks and rates). */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) throw usage(`bad size "${text}": expected a number with an optional unit (e.g. 200MB, 2GB)`);
  return Math.round(Number(m[1]) * unit);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** MB/s as 10^6 bytes per second, the unit disk vendors and DolphinDB's tutorial quote. */
export function mbPerSec(bytes: number, seconds: number): number {
  return seconds > 0 ? Math.round((bytes / 1e6 / seconds) * 10) / 10 : 0;
}

/** Starts a monotonic clock; the returned function gives the seconds elapsed since. */
export function stopwatch(): () => number {
  const started = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - started) / 1e9;
}
