import { formatBytes, mbPerSec } from '../common/units.js';
import { cvRun, parse, type BenchContext } from './bench-context.js';
import { walk } from './bench-layout.js';
import type { DatasetShape } from './bench-options.js';

export interface GeneratedData {
  /** Files and bytes on the volumes after generate. */
  dataset: { files: number; bytes: number };
  partitionsPerTable: number;
}

/** Phase `generate`: the tutorial's data set of the chosen shape, through the CLI. A failure ends the run. */
export async function runGeneratePhase(ctx: BenchContext, shape: DatasetShape, estBytes: number): Promise<GeneratedData> {
  const { layout, log } = ctx;
  log(`generate: ${shape.dates} date(s) × ${shape.symbols} symbols × ${shape.rowsPerSymbol} rows ≈ ${formatBytes(estBytes)}`);
  const gen = ctx.phases.get('generate', `chunkvault generate --dates ${shape.dates} --symbols ${shape.symbols} --rows-per-symbol ${shape.rowsPerSymbol}`);
  const g = await cvRun(ctx, layout.home, ['generate', '--dates', String(shape.dates), '--symbols', String(shape.symbols), '--rows-per-symbol', String(shape.rowsPerSymbol)]);
  const gs = parse<{ bytes: number; seconds: number; partitions: number }>(g);
  gen.add(g, gs.bytes, { partitions: gs.partitions, engineSeconds: gs.seconds });
  const dataset = layout.volumes.map(walk).reduce((a, b) => ({ files: a.files + b.files, bytes: a.bytes + b.bytes }), { files: 0, bytes: 0 });
  log(`generate: ${formatBytes(gs.bytes)} in ${g.seconds.toFixed(1)} s (${mbPerSec(gs.bytes, g.seconds)} MB/s)`);
  return { dataset, partitionsPerTable: gs.partitions };
}
