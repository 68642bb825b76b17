import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from '../../dist/bench/harness.js';
import { writeReport } from '../../dist/bench/report.js';
import { validateBenchResult } from '../../dist/bench/validate.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

describe('chunkvault bench', () => {
  const dir = tmpDir('bench');
  afterAll(() => rmTmp(dir));

  let tiny: Awaited<ReturnType<typeof runBench>>['result'] | undefined;

  it('a tiny run writes JSON, Markdown and SVG, and the JSON validates against the documented shape', async () => {
    const out = path.join(dir, 'out');
    const { result, files } = await runBench({
      size: 8 << 20,
      home: path.join(dir, 'work'),
      workers: [2],
      diskConcurrency: [2],
      baselines: ['cp'],
      repeat: 1,
      out,
      label: 'tiny',
      devices: 0,
      scale: false,
      deviceTestBytes: 16 << 20,
      warmProgram: false,
      log: () => {},
    });
    expect(Object.values(files).map((f) => path.basename(f)).sort()).toEqual([`${result.startedAt.slice(0, 10)}-tiny.json`, `${result.startedAt.slice(0, 10)}-tiny.md`, `${result.startedAt.slice(0, 10)}-tiny.svg`].sort());
    const json: unknown = JSON.parse(fs.readFileSync(files.json, 'utf8'));
    expect(validateBenchResult(json)).toEqual([]);
    const byName = Object.fromEntries(result.phases.map((p) => [p.name, p]));
    for (const p of ['generate', 'backup', 'incremental-backup', 'check', 'restore', 'incremental-restore']) expect(byName[p]?.status, `${p}: ${byName[p]?.reason}`).toBe('ok');
    expect(byName.backup!.bytes).toBeGreaterThan(0);
    expect(byName['incremental-backup']!.detail?.partitionsCopied).toBe(0);
    expect(result.baselines.find((b) => b.name === 'cp')?.status).toBe('ok');
    expect(result.baselines.find((b) => b.name === 'rsync')?.reason).toMatch(/not requested/);
    expect(result.sweep).toEqual([]);
    expect(result.goals.length).toBe(7);
    expect(fs.readFileSync(files.md, 'utf8')).toMatch(/## Goals/);
    // Whether this VM hands freed pages back to its host is a machine fact that moves cold-cache figures.
    const order = result.machine.pageReportingOrder;
    expect(order === null || Number.isInteger(order)).toBe(true);
    expect(fs.readFileSync(files.md, 'utf8')).toContain(order === null ? '| free page reporting | none |' : `| free page reporting | order ${order} (`);
    expect(fs.readFileSync(files.svg, 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // the working directories are removed afterwards
    expect(fs.readdirSync(path.join(dir, 'work'))).toEqual([]);
    tiny = result;
  }, 300_000); // 33-46 s alone, 65-77 s in the loaded parallel suite (sessions 5 and 6)

  it('a result with a workers × disk-concurrency sweep renders both grids and still validates', () => {
    expect(tiny).toBeDefined();
    const cell = (w: number, d: number) => ({ workers: w, diskConcurrency: d, backup: { seconds: 1, mbPerSec: 100 * w + d, cpuSeconds: 1, peakRssBytes: 1 << 26 }, restore: { seconds: 1, mbPerSec: 90 * w + d, cpuSeconds: null, peakRssBytes: null } });
    const swept = { ...tiny!, label: 'swept', sweep: [cell(1, 1), cell(1, 2), cell(2, 1), cell(2, 2)] };
    const files = writeReport(swept, path.join(dir, 'swept'));
    expect(validateBenchResult(JSON.parse(fs.readFileSync(files.json, 'utf8')))).toEqual([]);
    const md = fs.readFileSync(files.md, 'utf8');
    expect(md).toMatch(/## Sweep: backup MB\/s/);
    expect(md).toMatch(/\| 2 \| 201\.0 \| 202\.0 \|/);
    expect(fs.readFileSync(files.svg, 'utf8')).toMatch(/restore MB\/s: workers × disk concurrency/);
  });

  it('the validator names what is wrong in a result that breaks the shape', () => {
    expect(validateBenchResult({ schema: 'chunkvault-bench/1' }).length).toBeGreaterThan(5);
    expect(validateBenchResult(null)).toEqual(['$: expected an object']);
  });
});
