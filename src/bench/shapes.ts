import fs from 'node:fs';
import path from 'node:path';
import type { BenchOptions } from './bench-options.js';
import type { BenchResult } from './result.js';

/**
 * `bench --shape both`: the wide shape (today's: few big partitions, picked from --size) and the
 * many shape (issue 12: 2,000 partitions per table, small files) in one run, each with every
 * baseline, each written as its own result (<label>-wide, <label>-many), plus one Markdown report
 * that puts both side by side with the per-shape goals of issue 14.
 */
export type RunOne = (o: BenchOptions) => Promise<{ result: BenchResult; files: { json: string; md: string; svg: string } }>;

const ratio = (r: BenchResult, phase: string, versus: string) => r.ratios.find((x) => x.phase === phase && x.versus === versus)?.value ?? null;
const mbps = (r: BenchResult, name: string) => [...r.phases, ...r.baselines].find((m) => m.name === name)?.median?.mbPerSec ?? null;
const secs = (r: BenchResult, name: string) => [...r.phases, ...r.baselines].find((m) => m.name === name)?.median?.seconds ?? null;
const fx = (v: number | null, d = 2) => (v === null ? '—' : v.toFixed(d));

/** Issue 14's goals per shape: [text, phase, versus, target]. */
const GOALS: Record<'wide' | 'many', [string, string, string, number][]> = {
  wide: [
    ['restore ≥ 0.95× backup', 'restore', 'backup', 0.95],
    ['restore ≥ 1.2× restic restore', 'restore', 'restic', 1.2],
  ],
  many: [
    ['backup ≥ 1.0× cp -r + sync', 'backup', 'cp', 1.0],
    ['backup ≥ 1.5× restic', 'backup', 'restic', 1.5],
    ['restore ≥ 1.0× cp -r + sync', 'restore', 'cp', 1.0],
    ['restore ≥ 1.5× restic restore', 'restore', 'restic', 1.5],
  ],
};

export function renderShapes(label: string, runs: { shape: 'wide' | 'many'; result: BenchResult; md: string }[]): string {
  const L = [`# chunkvault bench: ${label}, both shapes (${runs[0]!.result.startedAt.slice(0, 10)})`, ''];
  L.push(`Command: \`${runs[0]!.result.argv.join(' ')}\`. Each shape has its full report: ${runs.map((r) => `[${r.shape}](${path.basename(r.md)})`).join(', ')}.`, '');
  const names = ['backup', 'restore', 'cp', 'rsync', 'restic-backup', 'restic-restore'];
  L.push(`| shape | data | files | partitions per table | ${names.map((n) => `${n} s (MB/s)`).join(' | ')} |`, `|---|---|---|---|${names.map(() => '---').join('|')}|`);
  for (const { shape, result: r } of runs) {
    const cells = names.map((n) => `${fx(secs(r, n))} (${fx(mbps(r, n), 1)})`);
    L.push(`| ${shape} | ${(r.dataset.bytes / 1e6).toFixed(0)} MB | ${r.dataset.files} | ${r.dataset.partitionsPerTable} | ${cells.join(' | ')} |`);
  }
  L.push('', '| shape | goal (issue 14) | measured | met |', '|---|---|---|---|');
  for (const { shape, result: r } of runs) {
    for (const [text, phase, versus, target] of GOALS[shape]) {
      const v = ratio(r, phase, versus);
      L.push(`| ${shape} | ${text} | ${v === null ? '—' : `${v.toFixed(3)}×`} | ${v === null ? 'not measured' : v >= target ? 'met' : '**missed**'} |`);
    }
  }
  L.push('');
  return L.join('\n');
}

/** Runs the wide shape, then the many shape, then writes the side-by-side report. */
export async function runBothShapes(o: BenchOptions, runOne: RunOne): Promise<{ results: BenchResult[]; md: string }> {
  const runs: { shape: 'wide' | 'many'; result: BenchResult; md: string }[] = [];
  for (const shape of ['wide', 'many'] as const) {
    const { result, files } = await runOne({ ...o, shape: shape === 'many' ? 'many' : 'default', label: `${o.label}-${shape}` });
    runs.push({ shape, result, md: files.md });
  }
  const md = path.join(o.out, `${runs[0]!.result.startedAt.slice(0, 10)}-${o.label}.md`);
  fs.writeFileSync(md, renderShapes(o.label, runs));
  return { results: runs.map((r) => r.result), md };
}
