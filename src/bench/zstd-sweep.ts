/**
 * The zstd level sweep behind the repository's `--compression` levels (src/repo/codec/zstd.ts):
 * every data file of a generated cluster home is compressed as one blob (as the packs do, one blob
 * per file), at each level, on one thread, and decompressed again.
 *
 *   node dist/cli/main.js --home H generate --dates 1 --symbols 50
 *   node dist/bench/zstd-sweep.js --home H [--levels -5,-1,1,3] [--out bench-results] [--label zstd-sweep]
 *
 * Figures are MB/s of raw bytes (10^6 B/s) per core, warm data in memory: no disk in the loop.
 * Writes <out>/<date>-<label>.json and .md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Zstd, zstdVersion } from '../engine/index.js';
import { dataFilePaths, isMainModule, sweepArg, writeSweep } from './sweep-cli.js';

export interface SweepRow {
  level: number;
  /** Stored bytes / raw bytes over all files. */
  ratio: number;
  storedBytes: number;
  /** Raw MB/s of compression on one core (best of the repeats). */
  compressMBps: number;
  /** Raw MB/s of decompression on one core (best of the repeats). */
  decompressMBps: number;
  repeats: number;
}

export interface SweepResult {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  /** os.loadavg() before and after: the cores are shared, so a busy machine is on record. */
  loadavg: { before: number[]; after: number[] };
  zstd: string;
  home: string;
  files: number;
  rawBytes: number;
  rows: SweepRow[];
}

const DEFAULT_LEVELS = [-7, -5, -3, -1, 1, 2, 3, 4, 5, 6, 9, 12, 15, 19];

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

function sweepLevel(files: Buffer[], rawBytes: number, level: number): SweepRow {
  const z = new Zstd(level);
  // Slow levels get one pass: the spread between passes is far below the gap between levels.
  const repeats = level >= 12 ? 1 : 3;
  let bestC = Infinity;
  let bestD = Infinity;
  let storedBytes = 0;
  for (let r = 0; r < repeats; r++) {
    let c = 0;
    let d = 0;
    storedBytes = 0;
    for (const f of files) {
      const t0 = process.hrtime.bigint();
      const frame = z.compress(f);
      c += seconds(t0);
      const t1 = process.hrtime.bigint();
      if (z.decompress(frame).length !== f.length) throw new Error(`level ${level}: round trip lost bytes`);
      d += seconds(t1);
      storedBytes += frame.length;
    }
    bestC = Math.min(bestC, c);
    bestD = Math.min(bestD, d);
  }
  const mbps = (s: number) => Math.round(rawBytes / 1e6 / s);
  return { level, ratio: Number((storedBytes / rawBytes).toFixed(4)), storedBytes, compressMBps: mbps(bestC), decompressMBps: mbps(bestD), repeats };
}

export function runSweep(home: string, levels = DEFAULT_LEVELS, log: (s: string) => void = () => {}): SweepResult {
  const before = os.loadavg();
  const files = dataFilePaths(home).map((f) => fs.readFileSync(f));
  const rawBytes = files.reduce((s, b) => s + b.length, 0);
  const rows: SweepRow[] = [];
  for (const level of levels) {
    const row = sweepLevel(files, rawBytes, level);
    log(`level ${level}: ratio ${row.ratio}, ${row.compressMBps} MB/s compress, ${row.decompressMBps} MB/s decompress`);
    rows.push(row);
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadavg: { before, after: os.loadavg() },
    zstd: zstdVersion(),
    home,
    files: files.length,
    rawBytes,
    rows,
  };
}

export function sweepMarkdown(r: SweepResult): string {
  const lines = [
    `# zstd level sweep on the quotes data`,
    '',
    `${r.date}, ${r.cpuModel}, ${r.cpus} cores, Node ${r.node}, ${r.zstd}; load average ${r.loadavg.before[0]!.toFixed(1)} before, ${r.loadavg.after[0]!.toFixed(1)} after (shared cores).`,
    `${r.files} data files (every file one blob), ${(r.rawBytes / 1e6).toFixed(1)} MB raw. One thread, data in memory;`,
    'MB/s are raw bytes per second per core (best of the repeats).',
    '',
    '| level | stored / raw | stored MB | compress MB/s | decompress MB/s |',
    '|---:|---:|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.level} | ${x.ratio.toFixed(3)} | ${(x.storedBytes / 1e6).toFixed(1)} | ${x.compressMBps} | ${x.decompressMBps} |`),
    '',
  ];
  return lines.join('\n');
}

if (isMainModule(import.meta.url)) {
  const home = sweepArg('--home');
  if (!home) throw new Error('usage: zstd-sweep --home DIR [--levels a,b,c] [--out DIR] [--label NAME]');
  const levels = sweepArg('--levels')?.split(',').map(Number) ?? DEFAULT_LEVELS;
  const r = runSweep(path.resolve(home), levels, (s) => process.stderr.write(s + '\n'));
  writeSweep(r, sweepMarkdown(r), 'zstd-sweep');
}
