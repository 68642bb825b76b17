import { RESULT_SCHEMA } from './result.js';

type Check = (v: unknown, at: string, errs: string[]) => void;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num: Check = (v, at, e) => void (typeof v === 'number' && Number.isFinite(v) ? 0 : e.push(`${at}: expected a finite number`));
const str: Check = (v, at, e) => void (typeof v === 'string' ? 0 : e.push(`${at}: expected a string`));
const bool: Check = (v, at, e) => void (typeof v === 'boolean' ? 0 : e.push(`${at}: expected a boolean`));
const nullable = (c: Check): Check => (v, at, e) => (v === null ? undefined : c(v, at, e));
const optional = (c: Check): Check => (v, at, e) => (v === undefined ? undefined : c(v, at, e));
const oneOf = (...vals: unknown[]): Check => (v, at, e) => void (vals.includes(v) ? 0 : e.push(`${at}: expected one of ${vals.join(', ')}`));
const arr = (c: Check): Check => (v, at, e) => (Array.isArray(v) ? v.forEach((x, i) => c(x, `${at}[${i}]`, e)) : void e.push(`${at}: expected an array`));
const obj = (shape: Record<string, Check>): Check => (v, at, e) => {
  if (!isObj(v)) return void e.push(`${at}: expected an object`);
  for (const [k, c] of Object.entries(shape)) c(v[k], `${at}.${k}`, e);
};
const anyObj: Check = (v, at, e) => void (isObj(v) ? 0 : e.push(`${at}: expected an object`));

const run = obj({ seconds: num, cpuSeconds: nullable(num), peakRssBytes: nullable(num), gatewayCpuSeconds: optional(nullable(num)) });
const summary = obj({ seconds: num, mbPerSec: num, cpuSeconds: nullable(num), peakRssBytes: nullable(num), gatewayCpuSeconds: optional(nullable(num)) });
const measurement = obj({
  name: str,
  tool: oneOf('chunkvault', 'cp', 'rsync', 'restic', 'cat', 'dd', 'rclone'),
  command: str,
  status: oneOf('ok', 'skipped', 'failed'),
  reason: optional(str),
  bytes: num,
  runs: arr(run),
  median: nullable(summary),
  detail: optional(anyObj),
});
const rate = obj({ seconds: num, mbPerSec: num });

const SHAPE = obj({
  schema: oneOf(RESULT_SCHEMA),
  label: str,
  startedAt: str,
  finishedAt: str,
  argv: arr(str),
  options: obj({ sizeBytes: num, repeat: num, workers: arr(num), diskConcurrency: arr(num), mainWorkers: num, mainRestoreWorkers: optional(nullable(num)), mainDiskConcurrency: num, baselines: arr(str), devices: num }),
  machine: obj({
    hostname: str,
    cpus: num,
    cpuModel: str,
    memoryBytes: num,
    kernel: str,
    os: str,
    node: str,
    root: bool,
    disks: arr(obj({ role: str, path: str, dev: str, blockDevice: nullable(str), model: nullable(str), rotational: nullable(bool), sizeBytes: nullable(num), fsType: str })),
    pageReportingOrder: optional(nullable(num)),
  }),
  cache: oneOf('cold', 'warm'),
  layout: obj({ kind: oneOf('directories', 'loop-ext4', 'emulated'), volumes: arr(str), backupDir: str, note: optional(str) }),
  dataset: obj({ bytes: num, files: num, databases: arr(str), tables: num, partitionsPerTable: num, dates: num, symbols: num, rowsPerSymbol: num }),
  deviceLimits: arr(obj({ dev: str, path: str, method: str, fileBytes: num, blockBytes: num, queueDepth: num, write: rate, read: rate, note: optional(str) })),
  phases: arr(measurement),
  baselines: arr(measurement),
  ratios: arr(obj({ phase: str, versus: str, value: num })),
  goals: arr(obj({ goal: str, measured: nullable(num), target: num, unit: oneOf('x', 's'), met: nullable(bool), detail: str })),
  sweep: arr(obj({ workers: num, diskConcurrency: num, backup: nullable(summary), restore: nullable(summary) })),
  notes: arr(str),
  emulation: optional(
    obj({
      spec: str,
      description: str,
      backing: oneOf('tmpfs', 'sparse'),
      fs: str,
      disks: arr(obj({ role: str, device: str, dev: str, mbPerSec: num, iops: num, sizeBytes: num })),
      checks: arr(obj({ dev: str, device: str, role: str, askedMbPerSec: num, fileBytes: num, direct: anyObj, buffered: anyObj, ok: bool, attempts: num, tolerance: num })),
      cleanedLeftovers: arr(str),
      stages: arr(obj({ stage: str, seconds: num, bytes: num, cpuSeconds: nullable(num), cpuSecondsPerGB: nullable(num), machineCpuBusy: num, disks: arr(anyObj), bound: str })),
      queues: arr(obj({ mode: oneOf('per-disk', 'global'), workers: num, diskConcurrency: num, volumeDepth: num, backup: nullable(summary), restore: nullable(summary) })),
    }),
  ),
});

/**
 * Checks a parsed result file against the documented shape (bench-results/README.md).
 * Returns the problems found, each as "path: what was expected"; empty means valid.
 */
export function validateBenchResult(value: unknown): string[] {
  const errs: string[] = [];
  SHAPE(value, '$', errs);
  return errs;
}
