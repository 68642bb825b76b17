import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { stopwatch } from '../common/units.js';
import { gatewayCpu, gatewayMeter } from './gateway-cpu.js';
import { entryPath } from '../common/entry-points.js';

/** One timed run of one command (or of a sequence, e.g. `cp -r` then `sync`). */
export interface RunSample {
  /** Wall clock from spawn to exit, process start-up included (what an operator waits for). */
  seconds: number;
  /** User + system CPU of the child and everything it waited for; null when not measurable. */
  cpuSeconds: number | null;
  /** Peak resident set of the child (largest process for multi-process tools); null when unknown. */
  peakRssBytes: number | null;
  /** CPU seconds the S3 gateway on this host took meanwhile (S3 phases only; gateway-cpu.ts). */
  gatewayCpuSeconds?: number | null;
}

export interface ChildRun extends RunSample {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI, run as a program (a path, not an import: nothing imports cli). */
export const CLI_MAIN = entryPath('cli');
const WRAPPER = entryPath('run-with-rusage');
const GNU_TIME = '/usr/bin/time';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * `sync` then drop the page cache, so the next phase reads from the device. Returns false (warm
 * figures) when the kernel refuses, e.g. not root or in a container without /proc/sys write.
 */
export function dropCaches(): boolean {
  spawnSync('sync');
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** True when `cmd` can be run (looked up on PATH). */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function collect(child: ReturnType<typeof spawn>, elapsed: () => number): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: elapsed() }));
  });
}

/**
 * Runs the chunkvault CLI as a child, as an operator would. CPU and peak RSS come from the child's
 * own process.resourceUsage() at exit (it covers every worker thread), written by a wrapper.
 */
export async function runChunkvault(home: string, args: string[], env: Record<string, string> = {}): Promise<ChildRun> {
  const usageFile = path.join(os.tmpdir(), `cv-bench-rusage-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const gateway = gatewayMeter();
  const elapsed = stopwatch();
  const child = spawn(process.execPath, [WRAPPER, CLI_MAIN, '--home', home, ...args], {
    env: { ...process.env, ...env, CV_BENCH_RUSAGE: usageFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = await collect(child, elapsed);
  let cpuSeconds: number | null = null;
  let peakRssBytes: number | null = null;
  try {
    const u = JSON.parse(fs.readFileSync(usageFile, 'utf8')) as { userMicros: number; systemMicros: number; maxRssKiB: number };
    cpuSeconds = (u.userMicros + u.systemMicros) / 1e6;
    peakRssBytes = u.maxRssKiB * 1024;
  } catch {
    /* the child died before exit handlers ran */
  }
  fs.rmSync(usageFile, { force: true });
  return { ...r, cpuSeconds, peakRssBytes, ...withGateway(gateway()) };
}

/**
 * Runs an external tool. With GNU time installed, CPU and peak RSS come from its rusage of the
 * child; otherwise CPU comes from this process's cutime/cstime delta (children it has reaped)
 * and peak RSS is unknown.
 */
export async function runTool(cmd: string, args: string[], env: Record<string, string> = {}, shell = false): Promise<ChildRun> {
  const timeFile = path.join(os.tmpdir(), `cv-bench-time-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const useTime = fs.existsSync(GNU_TIME);
  const argv = shell ? ['sh', '-c', [cmd, ...args].join(' ')] : [cmd, ...args];
  const full = useTime ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, ...argv] : argv;
  const before = childTicks();
  const gateway = gatewayMeter();
  const elapsed = stopwatch();
  const child = spawn(full[0]!, full.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const r = await collect(child, elapsed);
  let cpuSeconds: number | null = null;
  let peakRssBytes: number | null = null;
  if (useTime) {
    const m = /(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\s*$/.exec(fs.existsSync(timeFile) ? fs.readFileSync(timeFile, 'utf8') : '');
    if (m) {
      cpuSeconds = Number(m[1]) + Number(m[2]);
      peakRssBytes = Number(m[3]) * 1024;
    }
    fs.rmSync(timeFile, { force: true });
  } else {
    const after = childTicks();
    if (before !== null && after !== null) cpuSeconds = (after - before) / 100;
  }
  return { ...r, cpuSeconds, peakRssBytes, ...withGateway(gateway()) };
}

/** cutime + cstime of this process in clock ticks (USER_HZ, 100 on Linux), or null off Linux. */
function childTicks(): number | null {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[13]) + Number(fields[14]);
  } catch {
    return null;
  }
}

/** The gateway field of a run: absent unless a gateway is watched (the local phases' records keep their shape). */
const withGateway = (g: number | null): Pick<RunSample, 'gatewayCpuSeconds'> => (gatewayCpu() === null ? {} : { gatewayCpuSeconds: g });

/** Adds runs of a multi-step measurement (e.g. two backup-db commands, or cp then sync). */
export function addRuns(runs: RunSample[]): RunSample {
  const sum = (k: 'cpuSeconds' | 'gatewayCpuSeconds') => (runs.every((r) => r[k] !== null && r[k] !== undefined) ? runs.reduce((a, r) => a + r[k]!, 0) : null);
  const peaks = runs.map((r) => r.peakRssBytes).filter((v): v is number => v !== null);
  const gateway = runs.some((r) => 'gatewayCpuSeconds' in r) ? { gatewayCpuSeconds: sum('gatewayCpuSeconds') } : {};
  return { seconds: runs.reduce((a, r) => a + r.seconds, 0), cpuSeconds: sum('cpuSeconds'), peakRssBytes: peaks.length === runs.length && peaks.length ? Math.max(...peaks) : null, ...gateway };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
