import { bytesPerDate } from '../generate/generate.js';
import type { BaselineName } from './baselines.js';
import type { EmulateSpec } from './emulate-spec.js';

export interface BenchOptions {
  /** Target data size in bytes (three tables, two databases). */
  size: number;
  /** Parent directory for the cluster homes (default: the OS temp dir). */
  home?: string;
  /** Parent directory for backups and baseline copies (default: beside the homes). */
  backupDir?: string;
  workers: number[];
  diskConcurrency: number[];
  baselines: BaselineName[];
  repeat: number;
  out: string;
  label: string;
  /** Loop devices to spread volumes and backups over (root only); 0 = plain directories. */
  devices: number;
  /** Emulated disks (root, cgroup v1 blkio): volumes and backups on throttled loop devices; see emulate.ts. */
  emulate?: EmulateSpec;
  /** Device check tolerance as a fraction (default 0.05); anything else is stated in bold in the report. */
  deviceTolerance?: number;
  /** Copies of the data alive at once, for choosing memory or sparse files behind emulated disks (default 3.2). */
  emulateCopies?: number;
  /** Measure the no-change incremental backup of 500 partitions × 3 tables (a separate small data set). */
  scale: boolean;
  /** Run the load/export phases in each repetition (default true; `--no-dataio` leaves them out). */
  dataio?: boolean;
  /** `dataio`: generate, then only the export, read-csv and load phases (issue 11's figures at a given size). */
  only?: 'dataio';
  keep?: boolean;
  /** Repository formats to back up and restore after the main phases (phase-variants.ts), e.g. v1, v2-off, v2, v2-aes. */
  repoVariants?: string[];
  /**
   * `many`: the many-partition data set of issue 12 (400 dates × 50 symbols × 10 rows: 2,000
   * partitions per table, ~32k files, ~150 MB), whatever --size says. Default: picked from size.
   */
  shape?: 'default' | 'many';
  /** Shape overrides (tests): otherwise picked from size. */
  symbols?: number;
  rowsPerSymbol?: number;
  dates?: number;
  /** Load the program once, untimed, before each timed command (default true; tests turn it off to save time). */
  warmProgram?: boolean;
  /** Size of the raw device test file (default: min(1 GiB, data size)). */
  deviceTestBytes?: number;
  argv?: string[];
  log?: (line: string) => void;
}

export interface DatasetShape {
  dates: number;
  symbols: number;
  rowsPerSymbol: number;
}

/** Issue 12's many-partition shape: 5 hash buckets × 400 dates = 2,000 partitions per table. */
export const MANY: DatasetShape = { dates: 400, symbols: 50, rowsPerSymbol: 10 };
const SYMBOLS = 500;
const ROWS = 80_000;
const BYTES_PER_ROW_ALL_TABLES = bytesPerDate(1, 1);

/** Dates, symbols and rows per symbol for a target size: whole dates of the tutorial's shape, or fewer rows below one date. */
export function datasetShape(o: Pick<BenchOptions, 'size' | 'symbols' | 'rowsPerSymbol' | 'dates' | 'shape'>): DatasetShape {
  if (o.shape === 'many') return MANY;
  const symbols = o.symbols ?? SYMBOLS;
  const full = bytesPerDate(symbols, o.rowsPerSymbol ?? ROWS);
  if (o.dates) return { dates: o.dates, symbols, rowsPerSymbol: o.rowsPerSymbol ?? ROWS };
  if (o.rowsPerSymbol || o.size >= full) return { dates: Math.max(1, Math.round(o.size / full)), symbols, rowsPerSymbol: o.rowsPerSymbol ?? ROWS };
  return { dates: 1, symbols, rowsPerSymbol: Math.max(1, Math.round(o.size / (symbols * BYTES_PER_ROW_ALL_TABLES))) };
}
