import { writeTableFiles, type Engine, type FileEntry, type TableDef } from '../store/index.js';
import { generatePartition } from './quotes.js';

export interface GenerateTask {
  seed: number;
  day: number;
  symbols: string[];
  rowsPerSymbol: number;
  /** One staging directory per table; the same rows go into each, as the tutorial's script does. */
  targets: { dir: string; engine: Engine; table: TableDef }[];
}
export interface GenerateResult {
  rows: number;
  written: { rows: number; files: FileEntry[] }[];
}

/** Piscina worker: generates one (date, bucket) partition and writes it for every table. */
export default function generate(task: GenerateTask): GenerateResult {
  const { cols, rows } = generatePartition(task.seed, task.day, task.symbols, task.rowsPerSymbol);
  return { rows, written: task.targets.map((t) => writeTableFiles(t.dir, t.engine, t.table, cols, rows)) };
}
