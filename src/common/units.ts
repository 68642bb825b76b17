import { usage } from './errors.js';

/**
 * One convention everywhere: K/M/G/T (with or without B) are powers of 10, the way disk vendors
 * and every MB/s this tool prints count; KiB/MiB/GiB/TiB are powers of 2 and accepted when written.
 */
const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  ...Object.fromEntries(['K', 'M', 'G', 'T'].flatMap((p, i) => [[p, 1000 ** (i + 1)], [`${p}B`, 1000 ** (i + 1)], [`${p}IB`, 1024 ** (i + 1)]])),
};

/** Parses "2GB" (2·10^9), "200MB", "512k", "64MiB" (64·2^20), "1048576". */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) throw usage(`bad size "${text}": expected a number with an optional unit (e.g. 200MB, 2GB, 64MiB)`);
  return Math.round(Number(m[1]) * unit);
}

const SIZE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** A size for people, in the same decimal units parseBytes reads: 999 B, 84.4 KB, 1.2 GB. */
export function formatBytes(n: number): string {
  let i = 0;
  // 999.95 and up rounds to 1000.0 at one decimal: show it as 1.0 of the next unit instead.
  while (i < SIZE_UNITS.length - 1 && Math.abs(n) / 1000 ** i >= 999.95) i++;
  return i === 0 ? `${n} B` : `${(n / 1000 ** i).toFixed(1)} ${SIZE_UNITS[i]}`;
}

/** A rate for people: "50.0 MB/s", or "unlimited" for 0. */
export function formatRate(bytesPerSec: number): string {
  return bytesPerSec > 0 ? `${formatBytes(bytesPerSec)}/s` : 'unlimited';
}

/** MB/s as 10^6 bytes per second, the unit disk vendors and DolphinDB's tutorial quote; 1 decimal. */
export function mbPerSec(bytes: number, seconds: number): number {
  return seconds > 0 ? Math.round((bytes / 1e6 / seconds) * 10) / 10 : 0;
}

/** Starts a monotonic clock; the returned function gives the seconds elapsed since. */
export function stopwatch(): () => number {
  const started = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - started) / 1e9;
}
