import { openTableStreams, type FileEntry, type StreamTarget } from '../store/index.js';
import { partitionBlocks, partitionDicts } from './quotes.js';

export interface GenerateTask {
  seed: number;
  day: number;
  symbols: string[];
  rowsPerSymbol: number;
  /** One staging directory per table; the same rows go into each, as the tutorial's script does. */
  targets: StreamTarget[];
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
  const streams = openTableStreams(task.targets, rows, dicts);
  try {
    for (const block of partitionBlocks(task.seed, task.day, task.symbols, task.rowsPerSymbol)) streams.add(block.cols, block.rows);
    return { rows, written: streams.finish() };
  } catch (err) {
    streams.abort();
    throw err;
  }
}
