import { openTableStream, type Engine, type FileEntry, type TableDef } from '../store/index.js';
import { partitionBlocks, partitionDicts } from './quotes.js';

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

/**
 * Piscina worker: generates one (date, bucket) partition block by block and writes each block to
 * every table as it goes, so a worker holds one block (~7 MB) rather than the partition (~500 MB
 * for 100 symbols × 80,000 rows, three tables' encodings included).
 */
export default function generate(task: GenerateTask): GenerateResult {
  const rows = task.symbols.length * task.rowsPerSymbol;
  const dicts = partitionDicts(task.symbols);
  const streams = task.targets.map((t) => openTableStream(t.dir, t.engine, t.table, rows, dicts));
  try {
    for (const block of partitionBlocks(task.seed, task.day, task.symbols, task.rowsPerSymbol)) for (const s of streams) s.add(block.cols, block.rows);
    return { rows, written: streams.map((s) => s.finish()) };
  } catch (err) {
    for (const s of streams) s.abort();
    throw err;
  }
}
