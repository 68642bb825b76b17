import fs from 'node:fs';
import os from 'node:os';
import type { RunSample } from './measure.js';

/**
 * What bound a timed stage: per disk, bytes moved and busy time from /sys/block/<dev>/stat (field
 * 10, io_ticks: ms with requests in flight) and the share of its limit used; the machine's CPU
 * from /proc/stat; the chunkvault processes' own CPU seconds. Note: a blkio throttle holds bios
 * before they reach the device, so io_ticks under-reads a throttled disk; for emulated disks the
 * share of the limit ("of limit") is the measure that says a disk was the bottleneck.
 */
export interface ProbeDisk {
  role: string;
  /** Block device name under /sys/block (loop3, vda). */
  name: string;
  readLimitMbPerSec: number | null;
  writeLimitMbPerSec: number | null;
}

interface Snap {
  disks: number[][];
  cpuBusy: number;
  cpuTotal: number;
}

export interface StageDisk {
  role: string;
  name: string;
  readMbPerSec: number;
  writeMbPerSec: number;
  /** io_ticks ÷ wall clock. */
  busy: number;
  /** max(read ÷ read limit, write ÷ write limit); null without limits. */
  ofLimit: number | null;
}

export interface StageIo {
  stage: string;
  seconds: number;
  /** Logical bytes the stage moved (from its measurement). */
  bytes: number;
  cpuSeconds: number | null;
  cpuSecondsPerGB: number | null;
  /** Busy share of all the machine's cores (every process: the machine is shared). */
  machineCpuBusy: number;
  disks: StageDisk[];
  /** One sentence: which resource bound the stage. */
  bound: string;
}

function readSnap(disks: ProbeDisk[]): Snap {
  const stat = (n: string) => {
    try {
      return fs.readFileSync(`/sys/block/${n}/stat`, 'utf8').trim().split(/\s+/).map(Number);
    } catch {
      return [];
    }
  };
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { disks: disks.map((d) => stat(d.name)), cpuBusy: total - idle, cpuTotal: total };
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * Names the resource that bound a stage: a disk at ≥ 90% of its limit; else the CPU when the
 * machine's cores were ≥ 85% busy (saying whether chunkvault itself or other processes kept them
 * busy: the machine may be shared); else neither.
 */
export function boundOf(s: Omit<StageIo, 'bound'>, cores: number): string {
  const top = [...s.disks].filter((d) => d.ofLimit !== null).sort((a, b) => b.ofLimit! - a.ofLimit!)[0];
  const own = s.cpuSeconds === null ? null : s.cpuSeconds / (s.seconds * cores);
  const cpuPart = `${s.cpuSecondsPerGB === null ? '?' : s.cpuSecondsPerGB.toFixed(2)} CPU s per GB in chunkvault, ${own === null ? '?' : (own * 100).toFixed(0)}% of the ${cores} cores; the machine's cores were ${(s.machineCpuBusy * 100).toFixed(0)}% busy`;
  const disk = top ? `${top.role} disk ${top.name} at ${(top.ofLimit! * 100).toFixed(0)}% of its limit` : 'no disk limit known';
  if (top && top.ofLimit! >= 0.9) return `disk-bound: ${disk} (${cpuPart})`;
  if (s.machineCpuBusy >= 0.85)
    return own !== null && own >= 0.6 ? `CPU-bound: ${cpuPart}; busiest: ${disk}` : `CPU-bound by other processes (shared machine): ${cpuPart}; busiest: ${disk}`;
  return `neither a disk nor the CPU saturated (busiest: ${disk}; ${cpuPart}): bound by latency and concurrency (per-file fdatasync, queue depth)`;
}

/** Accumulates disk and CPU counters over timed runs, per stage name. */
export class IoBook {
  private readonly acc = new Map<string, { seconds: number; cpu: number | null; runs: number; start: Snap; sum: Snap }>();
  constructor(readonly disks: ProbeDisk[]) {}

  begin(): Snap {
    return readSnap(this.disks);
  }

  end(stage: string, start: Snap, run: RunSample): void {
    const now = readSnap(this.disks);
    const delta: Snap = { disks: now.disks.map((d, i) => d.map((v, j) => v - (start.disks[i]![j] ?? 0))), cpuBusy: now.cpuBusy - start.cpuBusy, cpuTotal: now.cpuTotal - start.cpuTotal };
    const a = this.acc.get(stage);
    if (!a) return void this.acc.set(stage, { seconds: run.seconds, cpu: run.cpuSeconds, runs: 1, start, sum: delta });
    a.seconds += run.seconds;
    a.cpu = a.cpu === null || run.cpuSeconds === null ? null : a.cpu + run.cpuSeconds;
    a.sum = { disks: a.sum.disks.map((d, i) => d.map((v, j) => v + (delta.disks[i]![j] ?? 0))), cpuBusy: a.sum.cpuBusy + delta.cpuBusy, cpuTotal: a.sum.cpuTotal + delta.cpuTotal };
  }

  /** The stage's figures; `bytes` is what the stage's measurement moved. */
  stage(stage: string, bytes: number): StageIo | null {
    const a = this.acc.get(stage);
    if (!a) return null;
    const s = a.seconds;
    const disks = this.disks.map((d, i) => {
      const f = a.sum.disks[i]!;
      const rd = ((f[2] ?? 0) * 512) / 1e6 / s;
      const wr = ((f[6] ?? 0) * 512) / 1e6 / s;
      const parts = [d.readLimitMbPerSec ? rd / d.readLimitMbPerSec : null, d.writeLimitMbPerSec ? wr / d.writeLimitMbPerSec : null].filter((v): v is number => v !== null);
      return { role: d.role, name: d.name, readMbPerSec: Math.round(rd * 10) / 10, writeMbPerSec: Math.round(wr * 10) / 10, busy: r3((f[9] ?? 0) / 1000 / s), ofLimit: parts.length ? r3(Math.max(...parts)) : null };
    });
    const cores = os.availableParallelism();
    const base = {
      stage,
      seconds: r3(s),
      bytes,
      cpuSeconds: a.cpu === null ? null : r3(a.cpu),
      cpuSecondsPerGB: a.cpu === null || !bytes ? null : r3(a.cpu / (bytes / 1e9)),
      machineCpuBusy: a.sum.cpuTotal ? r3(a.sum.cpuBusy / a.sum.cpuTotal) : 0,
      disks,
    };
    return { ...base, bound: boundOf(base, cores) };
  }
}
