import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const WRAPPER = path.join(ROOT, 'dist/bench/run-with-rusage.js');
let root: string;
beforeAll(() => (root = scratchDir('genmem')));
afterAll(() => rmTmp(root));

/** Peak RSS (MiB) of `generate` with 5 symbols (4 partitions per date) and this many rows per symbol. */
function generatePeakMiB(rowsPerSymbol: number): number {
  const home = path.join(root, `h${rowsPerSymbol}`);
  const usage = path.join(root, `u${rowsPerSymbol}.json`);
  const r = spawnSync(process.execPath, [WRAPPER, CLI, '--home', home, 'generate', '--dates', '1', '--symbols', '5', '--rows-per-symbol', String(rowsPerSymbol), '--json'], { encoding: 'utf8', env: { ...process.env, CV_BENCH_RUSAGE: usage } });
  if (r.status !== 0) throw new Error(r.stderr);
  fs.rmSync(home, { recursive: true, force: true });
  return (JSON.parse(fs.readFileSync(usage, 'utf8')) as { maxRssKiB: number }).maxRssKiB / 1024;
}

describe('generate memory', () => {
  // 200,000 vs 2,000,000 rows per partition: writing whole partitions took ~240 MB more at the larger size.
  it('peaks at about the same RSS at 10x the rows per partition', () => {
    const small = generatePeakMiB(200_000);
    const big = generatePeakMiB(2_000_000);
    expect(big, `small ${small.toFixed(0)} MiB, big ${big.toFixed(0)} MiB`).toBeLessThan(small * 1.25 + 20);
  }, 120_000);
});
