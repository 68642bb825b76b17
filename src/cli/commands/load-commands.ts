import readline from 'node:readline';
import type { Command } from 'commander';
import { usage } from '../../common/errors.js';
import { formatBytes } from '../../common/units.js';
import { exportTable, exportToFile, type ExportResult } from '../../dataio/export.js';
import { loadFile } from '../../dataio/load.js';
import { DATAIO_DEFAULTS, exportParallelism, loadParallelism } from '../../io/defaults.js';
import { splitList } from '../../dataio/schema-spec.js';
import { dropDatabase, dropPartition, dropTable } from '../../store/index.js';
import { action, intOpt, type Ctx } from '../action.js';
import { printJson, printKeyValues } from '../output.js';
import { progressBar } from '../progress.js';

type LoadFlags = { format?: string; delimiter: string; nullString?: string; header: boolean; workers?: number };

function registerLoad(program: Command): void {
  program
    .command('load <dbPath> <table> <file>')
    .description('load a CSV (header row mapped by column name) or Parquet file, or - for CSV on stdin; every row becomes visible at once, or none')
    .option('--format <format>', 'csv or parquet (default: by extension, .parquet, else csv)')
    .option('--delimiter <c>', 'CSV field delimiter', ',')
    .option('--null-string <s>', 'the text that means NULL (default: the empty field)')
    .option('--no-header', 'the CSV has no header row: its columns are the table\'s, in order')
    .option('--workers <n>', `CSV parser threads (default: ${DATAIO_DEFAULTS.loadWorkers}; 0: parse in the main thread)`, intOpt('--workers', 0))
    .action(
      action(async (ctx, dbPath: string, table: string, file: string, o: LoadFlags) => {
        const bar = progressBar('load', ctx.json, { rows: true });
        const r = await loadFile(ctx.cluster(), dbPath, table, file, {
          ...(o.format ? { format: o.format as 'csv' } : {}),
          delimiter: o.delimiter === '\\t' ? '\t' : o.delimiter,
          ...(o.nullString !== undefined ? { nullString: o.nullString } : {}),
          header: o.header,
          parallel: loadParallelism(o.workers),
          bufferBytes: DATAIO_DEFAULTS.loadBufferBytes,
          onProgress: (bytes, rows, total) => bar.update(bytes, total || bytes, rows),
        });
        bar.stop();
        if (ctx.json) printJson(r);
        else process.stdout.write(`loaded ${r.rows} rows into ${r.partitions} partition(s) of ${dbPath}/${table} from ${r.file}: ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s (${r.mbPerSec.toFixed(1)} MB/s, ${r.rowsPerSec} rows/s)\n`);
      }),
    );
}

type ExportFlags = { partition?: string; columns?: string; limit?: number; format: string; output?: string; delimiter: string; header: boolean; workers?: number };

/** Writes to stdout, waiting for it to drain so memory stays flat when the reader is slow. */
function stdoutWriter(text: Uint8Array): Promise<void> | void {
  if (process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

function registerExport(program: Command): void {
  program
    .command('export <dbPath> <table>')
    .description('stream a table\'s rows out as CSV (DolphinDB literals, NULL as the empty field) or JSON lines, from a snapshot as of the start')
    .option('--partition <pattern>', 'only partitions matching this pattern (% any run, ? one character), e.g. /Key3/%')
    .option('--columns <list>', 'only these columns, in this order')
    .option('--limit <n>', 'at most n rows', intOpt('--limit', 0))
    .option('--format <format>', 'csv or jsonl', 'csv')
    .option('--delimiter <c>', 'CSV field delimiter', ',')
    .option('--no-header', 'no header row (CSV)')
    .option('--workers <n>', 'CSV writer threads (default: one per core; 0: write in the main thread)', intOpt('--workers', 0))
    .option('-o, --output <file>', 'write into this file (it appears whole, or not at all); default stdout')
    .action(
      action(async (ctx, dbPath: string, table: string, o: ExportFlags) => {
        if (ctx.json && !o.output) throw usage('export --json needs -o <file>: stdout carries the summary');
        const opts = {
          format: o.format as 'csv',
          delimiter: o.delimiter === '\\t' ? '\t' : o.delimiter,
          header: o.header,
          parallel: exportParallelism(o.workers),
          ...(o.partition ? { partition: o.partition } : {}),
          ...(o.columns ? { columns: splitList(o.columns) } : {}),
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
        };
        const c = ctx.cluster();
        const r: ExportResult = o.output ? await exportToFile(c, dbPath, table, opts, o.output) : await exportTable(c, dbPath, table, opts, stdoutWriter);
        if (ctx.json) printJson({ ...r, output: o.output });
        else if (o.output) process.stdout.write(`exported ${r.rows} rows of ${r.partitions} partition(s) to ${o.output}: ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s (${r.mbPerSec.toFixed(1)} MB/s)\n`);
      }),
    );
}

/** Destructive commands ask on a TTY and need --yes otherwise. */
async function confirm(ctx: Ctx, yes: boolean | undefined, what: string): Promise<void> {
  if (yes) return;
  if (ctx.json || !process.stdin.isTTY || !process.stderr.isTTY) throw usage(`${what} cannot be undone: add --yes to confirm`);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(`${what}? This cannot be undone. [y/N] `, resolve));
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw usage(`${what}: not confirmed, nothing dropped`);
}

function report(ctx: Ctx, out: Record<string, unknown>): void {
  if (ctx.json) printJson(out);
  else printKeyValues(out);
}

function registerDrops(program: Command): void {
  program
    .command('drop-partition <dbPath> <path>')
    .description('drop a partition (every table\'s data in it, or one table\'s with --table); a running backup keeps its snapshot')
    .option('--table <t>', 'only this table\'s data in the partition')
    .option('--yes', 'do not ask')
    .action(
      action(async (ctx, dbPath: string, p: string, o: { table?: string; yes?: boolean }) => {
        const c = ctx.cluster();
        await confirm(ctx, o.yes, `drop partition ${p} of ${dbPath}${o.table ? ` (table ${o.table})` : ''}`);
        dropPartition(c, dbPath, p, o.table);
        report(ctx, { dbPath, dropped: 'partition', partition: p, ...(o.table ? { table: o.table } : {}) });
      }),
    );
  program
    .command('drop-table <dbPath> <table>')
    .description('drop a table and its data in every partition; a running backup keeps its snapshot')
    .option('--yes', 'do not ask')
    .action(
      action(async (ctx, dbPath: string, table: string, o: { yes?: boolean }) => {
        const c = ctx.cluster();
        await confirm(ctx, o.yes, `drop table ${table} of ${dbPath}`);
        dropTable(c, dbPath, table);
        report(ctx, { dbPath, dropped: 'table', table });
      }),
    );
  program
    .command('drop-db <dbPath>')
    .description('drop a database, its tables and all its data; a running backup keeps its snapshot')
    .option('--yes', 'do not ask')
    .action(
      action(async (ctx, dbPath: string, o: { yes?: boolean }) => {
        const c = ctx.cluster();
        await confirm(ctx, o.yes, `drop database ${dbPath}`);
        dropDatabase(c, dbPath);
        report(ctx, { dbPath, dropped: 'database' });
      }),
    );
}

export function registerLoadCommands(program: Command): void {
  registerLoad(program);
  registerExport(program);
  registerDrops(program);
}
