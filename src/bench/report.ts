import fs from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../common/units.js';
import { renderEmulation } from './emulation-report.js';
import type { BenchResult, Measurement, SweepCell } from './result.js';
import { renderSvg, type BarGroup, type Grid } from './svg-chart.js';
import { validateBenchResult } from './validate.js';

const f1 = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const rss = (v: number | null | undefined) => (v === null || v === undefined ? '—' : formatBytes(v));

function mbps(list: Measurement[], name: string): number | null {
  const m = list.find((x) => x.name === name);
  return m?.status === 'ok' && m.median ? m.median.mbPerSec : null;
}

function measurementRows(r: BenchResult, list: Measurement[], withRatios: boolean): string[] {
  const versus = [...new Set(r.ratios.map((x) => x.versus))];
  // S3 runs: CPU per GiB moved, the client's and the gateway's (which shares the cores).
  const s3 = [...r.phases, ...r.baselines].some((m) => m.median?.gatewayCpuSeconds !== undefined);
  const perGiB = (m: Measurement, v: number | null | undefined) => (m.bytes && v !== null && v !== undefined ? f1(v / (m.bytes / 2 ** 30), 2) : '—');
  const head = ['phase', 'status', 'bytes', 'seconds', 'MB/s', 'CPU s', ...(s3 ? ['CPU s/GiB', 'gateway CPU s/GiB'] : []), 'peak RSS', 'engine s', ...(withRatios ? versus.map((v) => `÷ ${v}`) : [])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const m of list) {
    const ratio = (v: string) => f1(r.ratios.find((x) => x.phase === m.name && x.versus === v)?.value, 2);
    const cells = [
      `${m.name}`,
      m.status === 'ok' ? 'ok' : `${m.status}: ${m.reason ?? ''}`,
      m.bytes ? formatBytes(m.bytes) : '0',
      f1(m.median?.seconds, 2),
      m.bytes ? f1(m.median?.mbPerSec) : '—',
      f1(m.median?.cpuSeconds, 2),
      ...(s3 ? [perGiB(m, m.median?.cpuSeconds), perGiB(m, m.median?.gatewayCpuSeconds)] : []),
      rss(m.median?.peakRssBytes),
      typeof m.detail?.engineSeconds === 'number' ? (m.detail.engineSeconds as number).toFixed(2) : '—',
      ...(withRatios ? versus.map(ratio) : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

function sweepTable(cells: SweepCell[], which: 'backup' | 'restore'): string[] {
  const ws = [...new Set(cells.map((c) => c.workers))].sort((a, b) => a - b);
  const ds = [...new Set(cells.map((c) => c.diskConcurrency))].sort((a, b) => a - b);
  const lines = [`| workers \\ disk concurrency | ${ds.join(' | ')} |`, `|---|${ds.map(() => '---').join('|')}|`];
  for (const w of ws) lines.push(`| ${w} | ${ds.map((d) => f1(cells.find((c) => c.workers === w && c.diskConcurrency === d)?.[which]?.mbPerSec)).join(' | ')} |`);
  return lines;
}

export function renderMarkdown(r: BenchResult, svgName: string): string {
  const m = r.machine;
  const L: string[] = [];
  L.push(`# chunkvault bench: ${r.label} (${r.startedAt.slice(0, 10)})`, '');
  L.push(`Command: \`${r.argv.join(' ')}\``, '');
  if (r.emulation) L.push(...renderEmulation(r.emulation));
  L.push(
    r.cache === 'cold'
      ? 'Every timed step started from a cold page cache (`sync; echo 3 > /proc/sys/vm/drop_caches`). Times are wall clock of the whole command, fsync included.'
      : '**Warm cache: these figures are NOT cold.** The run could not drop the page cache (not root), so reads may come from memory and MB/s is optimistic.',
    '',
  );
  const restores = r.options.mainRestoreWorkers === null ? ' (restores: one worker per core, their default)' : r.options.mainRestoreWorkers !== undefined && r.options.mainRestoreWorkers !== r.options.mainWorkers ? ` (restores: --workers ${r.options.mainRestoreWorkers})` : '';
  L.push(`Medians of ${r.options.repeat} run(s). Main phases use --workers ${r.options.mainWorkers} --disk-concurrency ${r.options.mainDiskConcurrency}${restores}. MB/s = 10^6 bytes/s.`, '');
  L.push(`![chart](${svgName})`, '');
  L.push('## Machine', '');
  L.push(`| | |`, `|---|---|`);
  L.push(`| CPU | ${m.cpus} × ${m.cpuModel} |`, `| memory | ${formatBytes(m.memoryBytes)} |`, `| kernel | ${m.kernel} (${m.os}) |`, `| Node | ${m.node} |`, `| root | ${m.root} |`);
  if (m.pageReportingOrder !== undefined) L.push(`| free page reporting | ${pageReporting(m.pageReportingOrder)} |`);
  for (const d of m.disks) L.push(`| disk (${d.role}) | ${d.blockDevice ?? 'no block device'} ${d.model ?? ''}, ${d.fsType}, ${d.rotational === null ? '' : d.rotational ? 'rotational' : 'non-rotational'}${d.sizeBytes ? `, ${formatBytes(d.sizeBytes)}` : ''} — ${d.path} |`);
  L.push('', `Layout: ${r.layout.kind}; volumes ${r.layout.volumes.join(', ')}; backups in ${r.layout.backupDir}.${r.layout.note ? ' ' + r.layout.note : ''}`, '');
  const ds = r.dataset;
  L.push(`Dataset: ${formatBytes(ds.bytes)} in ${ds.files} files; ${ds.databases.join(', ')}; ${ds.tables} tables × ${ds.partitionsPerTable} partitions (${ds.dates} date(s), ${ds.symbols} symbols, ${ds.rowsPerSymbol} rows per symbol per date).`, '');
  L.push('## Device limits', '', '| device | path | method | file | write MB/s | read MB/s |', '|---|---|---|---|---|---|');
  for (const d of r.deviceLimits) L.push(`| ${d.dev} | ${d.path} | ${d.method} | ${formatBytes(d.fileBytes)} | ${f1(d.write.mbPerSec)} | ${f1(d.read.mbPerSec)} |`);
  for (const d of r.deviceLimits) if (d.note) L.push('', `Note (${d.dev}): ${d.note}`);
  L.push('', '## chunkvault phases', '');
  L.push(...measurementRows(r, r.phases, true));
  L.push('', '"seconds" is the wall clock of the command(s), Node start-up included; "engine s" is what the command itself reported (last run), which leaves out start-up and planning outside the engine. Ratios are chunkvault MB/s ÷ the other MB/s, except for the no-change phases, which compare seconds. "device" is the copy limit of the devices involved (see README).', '');
  L.push('## Baselines (the same files)', '');
  L.push(...measurementRows(r, r.baselines, false));
  L.push('', '## Goals', '', '| goal | target | measured | met |', '|---|---|---|---|');
  for (const g of r.goals) L.push(`| ${g.goal} | ${g.unit === 's' ? `< ${g.target} s` : `≥ ${g.target}×`} | ${g.measured === null ? '—' : g.unit === 's' ? `${g.measured.toFixed(3)} s` : `${g.measured.toFixed(3)}×`} | ${g.met === null ? 'not measured' : g.met ? '**met**' : '**missed**'} — ${g.detail} |`);
  if (r.sweep.length) {
    L.push('', '## Sweep: backup MB/s over workers × disk concurrency', '', ...sweepTable(r.sweep, 'backup'));
    if (r.sweep.some((c) => c.restore)) L.push('', '## Sweep: restore MB/s', '', ...sweepTable(r.sweep, 'restore'));
  }
  if (r.notes.length) L.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  L.push('');
  return L.join('\n');
}

export function chartFor(r: BenchResult): string {
  const b = (label: string, value: number | null, kind: 'chunkvault' | 'baseline' | 'device') => ({ label, value, kind });
  const dev = (phase: string) => r.ratios.find((x) => x.phase === phase && x.versus === 'device') ? mbps(r.phases, phase)! / r.ratios.find((x) => x.phase === phase && x.versus === 'device')!.value : null;
  const groups: BarGroup[] = [
    { label: 'backup', bars: [b('chunkvault', mbps(r.phases, 'backup'), 'chunkvault'), b('cp -r+sync', mbps(r.baselines, 'cp'), 'baseline'), b('rsync -a', mbps(r.baselines, 'rsync'), 'baseline'), b('restic backup', mbps(r.baselines, 'restic-backup'), 'baseline'), b('device', dev('backup'), 'device')] },
    { label: 'restore', bars: [b('chunkvault', mbps(r.phases, 'restore'), 'chunkvault'), b('cp -r+sync', mbps(r.baselines, 'cp'), 'baseline'), b('rsync -a', mbps(r.baselines, 'rsync'), 'baseline'), b('restic restore', mbps(r.baselines, 'restic-restore'), 'baseline'), b('device', dev('restore'), 'device')] },
    { label: 'check', bars: [b('chunkvault', mbps(r.phases, 'check'), 'chunkvault'), b('plain read', mbps(r.baselines, 'plain-read'), 'baseline'), b('device read', dev('check'), 'device')] },
    { label: 'generate', bars: [b('chunkvault', mbps(r.phases, 'generate'), 'chunkvault'), b('device write', dev('generate'), 'device')] },
  ];
  const grids: Grid[] = [];
  if (r.sweep.length) {
    const rows = [...new Set(r.sweep.map((c) => c.workers))].sort((a, b2) => a - b2);
    const cols = [...new Set(r.sweep.map((c) => c.diskConcurrency))].sort((a, b2) => a - b2);
    for (const which of ['backup', 'restore'] as const) {
      if (!r.sweep.some((c) => c[which])) continue;
      const values = rows.map((w) => cols.map((d) => r.sweep.find((c) => c.workers === w && c.diskConcurrency === d)?.[which]?.mbPerSec ?? null));
      grids.push({ title: `${which} MB/s: workers × disk concurrency`, rowLabel: 'workers', colLabel: 'disk concurrency', rows, cols, values });
    }
  }
  return renderSvg(`chunkvault bench — ${r.label} — ${r.cache} cache, ${r.machine.cpus} CPU${r.emulation ? ', EMULATED disks' : ''}`, groups, grids);
}

/** Writes <out>/<YYYY-MM-DD>-<label>.{json,md,svg}; refuses to write a result that fails its own shape. */
export function writeReport(r: BenchResult, outDir: string): { json: string; md: string; svg: string } {
  const errs = validateBenchResult(JSON.parse(JSON.stringify(r)));
  if (errs.length) throw new Error(`bench result does not match its documented shape: ${errs.slice(0, 5).join('; ')}`);
  fs.mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `${r.startedAt.slice(0, 10)}-${r.label}`);
  const files = { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
  fs.writeFileSync(files.json, JSON.stringify(r, null, 2) + '\n');
  fs.writeFileSync(files.svg, chartFor(r));
  fs.writeFileSync(files.md, renderMarkdown(r, path.basename(files.svg)));
  return files;
}

/** On x86-64 with 4 KiB pages no free block is above order 10, so a larger order reports nothing. */
function pageReporting(order: number | null): string {
  if (order === null) return 'none';
  const off = process.arch === 'x64' && order > 10;
  return `order ${order} (${off ? 'above the largest free block: nothing is reported' : 'freed page cache goes back to the host; see docs/PERFORMANCE.md'})`;
}
