import type { DeviceLimit } from './device-limit.js';
import type { EmulationReport } from './emulation-report.js';
import type { MachineInfo } from './machine.js';
import type { RunSample } from './measure.js';

/** Version of the JSON shape below; bump it when a field changes meaning. */
export const RESULT_SCHEMA = 'chunkvault-bench/1';

export interface Summary {
  seconds: number;
  /** 10^6 bytes per second over `bytes` of the measurement. */
  mbPerSec: number;
  cpuSeconds: number | null;
  peakRssBytes: number | null;
  /** S3 phases: CPU seconds of the gateway on this host (radosgw + ceph-osd); null when not measurable. */
  gatewayCpuSeconds?: number | null;
}

/** One phase of chunkvault, or one baseline tool, measured `runs.length` times. */
export interface Measurement {
  name: string;
  tool: 'chunkvault' | 'cp' | 'rsync' | 'restic' | 'cat' | 'dd' | 'rclone';
  /** What was run, for the reader. */
  command: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  reason?: string;
  /** Bytes the phase moved (logical file bytes); 0 for no-change phases. */
  bytes: number;
  runs: RunSample[];
  /** Median of each field over runs (null when not ok). */
  median: Summary | null;
  /** Extra facts, e.g. partitions copied and skipped, the engine's own timing. */
  detail?: Record<string, unknown>;
}

export interface Ratio {
  phase: string;
  versus: string;
  /** chunkvault MB/s divided by the other's MB/s (for no-change phases: the other's seconds ÷ ours). */
  value: number;
}

export interface Goal {
  goal: string;
  measured: number | null;
  target: number;
  unit: 'x' | 's';
  /** null when it could not be measured (a phase or baseline was skipped). */
  met: boolean | null;
  detail: string;
}

export interface SweepCell {
  workers: number;
  diskConcurrency: number;
  backup: Summary | null;
  restore: Summary | null;
}

export interface BenchResult {
  schema: typeof RESULT_SCHEMA;
  label: string;
  /** ISO time the run started. */
  startedAt: string;
  finishedAt: string;
  /** The command line, to reproduce the run. */
  argv: string[];
  options: {
    sizeBytes: number;
    repeat: number;
    workers: number[];
    diskConcurrency: number[];
    /** Workers and disk concurrency of the main phases. */
    mainWorkers: number;
    /** Workers of the main phases' restores: null for the restore's own default (one per core); absent before session 18, when they used mainWorkers. */
    mainRestoreWorkers?: number | null;
    mainDiskConcurrency: number;
    baselines: string[];
    devices: number;
  };
  machine: MachineInfo;
  /** 'cold': caches dropped before every timed step; 'warm': they could not be (not root). */
  cache: 'cold' | 'warm';
  layout: {
    kind: 'directories' | 'loop-ext4' | 'emulated';
    volumes: string[];
    backupDir: string;
    note?: string;
  };
  dataset: {
    bytes: number;
    files: number;
    databases: string[];
    tables: number;
    partitionsPerTable: number;
    dates: number;
    symbols: number;
    rowsPerSymbol: number;
  };
  deviceLimits: DeviceLimit[];
  phases: Measurement[];
  baselines: Measurement[];
  ratios: Ratio[];
  goals: Goal[];
  sweep: SweepCell[];
  notes: string[];
  /** Present when the disks were emulated (--emulate): how, the device check, what bound each stage. */
  emulation?: EmulationReport;
}
