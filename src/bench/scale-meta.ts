import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUOTES_DBS } from '../generate/quotes.js';
import { describeMachine } from './machine.js';
import { runChunkvault, runTool, type ChildRun } from './measure.js';
import { buildScaleHome } from './scale-fixture.js';
import { entryPath } from '../common/entry-points.js';

/**
 * `npm run bench:scale -- [partitions] [workDir] [outDir] [label] [format]`: metadata at scale
 * (issue 14). `label` says what the machine was doing ("quiet machine"); `format` (1 or 2) is
 * the repositories' format, default what a backup makes, and names the output `-v<format>`. Builds
 * the fixture (scale-fixture.ts: 3 tables × `partitions`, default 100,000, on tmpfs by default),
 * backs it up once (untimed for the goals), then measures each operation as an operator runs it,
 * one child process each, wall time and peak RSS: no-change backup-db, points, list, check
 * --sample 1, and restore planning (restore-plan-probe.ts). Writes
 * `<outDir>/<date>-scale-meta-<partitions>.{json,md}`.
 */
const PROBE = entryPath('restore-plan-probe');
export const RSS_LIMIT_BYTES = 300 * 1024 * 1024;

export interface ScaleRow {
  op: string;
  db: string;
  seconds: number;
  peakRssMiB: number | null;
  ok: boolean;
  note: string;
}

const mib = (b: number | null) => (b === null ? null : Math.round((b / 1048576) * 10) / 10);

function row(op: string, db: string, r: ChildRun, note = ''): ScaleRow {
  const err = r.code === 0 ? '' : `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
  return { op, db, seconds: Math.round(r.seconds * 1000) / 1000, peakRssMiB: mib(r.peakRssBytes), ok: r.code === 0, note: err || note };
}

/** Runs every measured operation once against a fixture home and its repository. */
export async function measureScale(home: string, bak: string, work: string, log: (s: string) => void = () => {}): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const add = (r: ScaleRow) => {
    rows.push(r);
    log(`${r.op.padEnd(22)} ${r.db.padEnd(18)} ${r.seconds.toFixed(2).padStart(7)} s ${String(r.peakRssMiB).padStart(7)} MiB ${r.note}`);
  };
  for (const db of QUOTES_DBS) {
    const b = await runChunkvault(home, ['backup-db', bak, db.dbPath, '--json']);
    add(row('no-change backup-db', db.dbPath, b, b.code === 0 ? `${(JSON.parse(b.stdout) as { skipped: number }).skipped} entries referenced` : ''));
    add(row('points', db.dbPath, await runChunkvault(home, ['points', bak, db.dbPath, '--json'])));
    add(row('list', db.dbPath, await runChunkvault(home, ['list', bak, db.dbPath, db.tables[0]!.name, '--json'])));
    add(row('check --sample 1', db.dbPath, await runChunkvault(home, ['check', bak, db.dbPath, '--sample', '1', '--json'])));
    const target = path.join(work, `plan-${db.dbPath.slice(6)}`);
    fs.rmSync(target, { recursive: true, force: true });
    const p = await runTool(process.execPath, [PROBE, bak, db.dbPath, target, db.dbPath]);
    add(row('restore planning', db.dbPath, p, p.code === 0 ? `${(JSON.parse(p.stdout) as { jobs: number }).jobs} jobs` : ''));
    fs.rmSync(target, { recursive: true, force: true });
  }
  return rows;
}

function markdown(partitions: number, fixture: { seconds: number; files: number }, firstBackup: ScaleRow[], rows: ScaleRow[], label: string): string {
  const line = (r: ScaleRow) => `| ${r.op} | ${r.db} | ${r.seconds.toFixed(2)} | ${r.peakRssMiB ?? '?'} | ${r.peakRssMiB !== null && r.peakRssMiB * 1048576 < 300e6 ? 'yes' : '**no**'} | ${r.note} |`;
  return [
    `# Metadata at scale: ${partitions.toLocaleString('en')} partitions × 3 tables (${label})`,
    '',
    `Fixture (src/bench/scale-fixture.ts): ${fixture.files.toLocaleString('en')} data files, built in ${fixture.seconds.toFixed(1)} s; one child process per operation, tmpfs, warm cache.`,
    label === 'shared machine' ? 'Indicative only: the machine (2 vCPU) was shared with other sessions running tests and builds.' : `Taken on a ${label}: nothing else ran.`,
    '',
    '| operation | database | wall s | peak RSS MiB | < 300 MB | note |',
    '|---|---|---|---|---|---|',
    ...firstBackup.map(line),
    ...rows.map(line),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const [n = '100000', work = '/dev/shm/cv-scale-meta', out = 'bench-results', label = 'shared machine', format = ''] = process.argv.slice(2);
  if (format && format !== '1' && format !== '2') throw new Error(`format must be 1 or 2, not ${format}`);
  const formatArgs = format ? ['--repo-format', format] : [];
  const partitions = Number(n);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const home = path.join(work, 'home');
  const bak = path.join(work, 'backup');
  const log = (s: string) => process.stderr.write(s + '\n');
  try {
    const fixture = buildScaleHome(home, partitions);
    log(`fixture: ${fixture.partitions} partitions × 3 tables, ${fixture.files} files in ${fixture.seconds.toFixed(1)} s`);
    const first: ScaleRow[] = [];
    for (const db of QUOTES_DBS) {
      first.push(row('first backup-db', db.dbPath, await runChunkvault(home, ['backup-db', bak, db.dbPath, '--json', ...formatArgs])));
      log(`first backup-db ${db.dbPath}: ${first.at(-1)!.seconds.toFixed(1)} s, ${first.at(-1)!.peakRssMiB} MiB ${first.at(-1)!.note}`);
    }
    const rows = await measureScale(home, bak, work, log);
    const date = new Date().toISOString().slice(0, 10);
    const base = path.join(out, `${date}-scale-meta-${fixture.partitions}${format ? `-v${format}` : ''}`);
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(`${base}.json`, JSON.stringify({ date: new Date().toISOString(), label, format: format || 'default', partitions: fixture.partitions, fixture, machine: describeMachine([{ role: 'work', path: work }]), firstBackup: first, rows }, null, 1) + '\n');
    fs.writeFileSync(`${base}.md`, markdown(fixture.partitions, fixture, first, rows, label));
    log(`wrote ${base}.{json,md}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
