import { describe, expect, it } from 'vitest';
import { renderShapes } from '../../dist/bench/shapes.js';

/** The parts of a result the side-by-side report reads. */
function result(ratios: [string, string, number][]): never {
  const m = (name: string, seconds: number) => ({ name, status: 'ok', median: { seconds, mbPerSec: 100 / seconds } });
  return {
    startedAt: '2026-11-27T18:00:00.000Z',
    argv: ['chunkvault', 'bench', '--shape', 'both'],
    dataset: { bytes: 150e6, files: 32005, partitionsPerTable: 2000 },
    phases: [m('backup', 2), m('restore', 3)],
    baselines: [m('cp', 4), m('restic-restore', 5)],
    ratios: ratios.map(([phase, versus, value]) => ({ phase, versus, value })),
  } as never;
}

describe('renderShapes', () => {
  it('states each shape goal of issue 14 as met or missed from that shape’s ratios', () => {
    const md = renderShapes('x', [
      { shape: 'wide', result: result([['restore', 'backup', 0.9], ['restore', 'restic', 1.3]]), md: 'out/2026-11-27-x-wide.md' },
      { shape: 'many', result: result([['backup', 'cp', 1.2], ['backup', 'restic', 1.4], ['restore', 'cp', 1.0]]), md: 'out/2026-11-27-x-many.md' },
    ]);
    expect(md).toContain('| wide | restore ≥ 0.95× backup | 0.900× | **missed** |');
    expect(md).toContain('| wide | restore ≥ 1.2× restic restore | 1.300× | met |');
    expect(md).toContain('| many | backup ≥ 1.0× cp -r + sync | 1.200× | met |');
    expect(md).toContain('| many | backup ≥ 1.5× restic | 1.400× | **missed** |');
    expect(md).toContain('| many | restore ≥ 1.5× restic restore | — | not measured |');
    expect(md).toContain('[many](2026-11-27-x-many.md)');
  });
});
