import type { Command } from 'commander';
import { formatBytes, mbPerSec, parseBytes } from '../../common/units.js';
import { generateQuotes } from '../../generate/generate.js';
import { databaseDigest, databaseSummary, initCluster, listDatabases, loadDatabase, partitionStats, volumesOf } from '../../store/index.js';
import { action, collect, intOpt } from '../action.js';
import { describeScheme } from '../describe.js';
import { printJson, printKeyValues, printTable } from '../output.js';
import { progressBar } from '../progress.js';

function registerHomeCommands(program: Command): void {
  program
    .command('init')
    .description('lay out a cluster home: nodes and their volumes')
    .option('--nodes <n>', 'data nodes', intOpt('--nodes'), 1)
    .option('--volumes-per-node <m>', 'volumes per node', intOpt('--volumes-per-node'), 1)
    .option('--volume <node=path[:disk]>', 'explicit volume (repeatable); may live on any device', collect)
    .option('--admin <user>', 'a user who may see every user\'s jobs (repeatable)', collect)
    .action(
      action((ctx, o: { nodes: number; volumesPerNode: number; volume?: string[]; admin?: string[] }) => {
        const cfg = initCluster(ctx.home(), { nodes: o.nodes, volumesPerNode: o.volumesPerNode, volumes: o.volume ?? [], admins: o.admin ?? [] });
        const vols = volumesOf(cfg);
        if (ctx.json) printJson({ home: ctx.home(), nodes: cfg.nodes, volumes: vols });
        else printTable(vols.map((v) => ({ node: v.node, volume: v.path, disk: v.disk })));
      }),
    );

  program
    .command('generate')
    .description("generate the tutorial's quotes databases (dfs://testdb, dfs://testdb_tsdb)")
    .option('--dates <n>', 'dates (partitions per bucket)', intOpt('--dates'), 2)
    .option('--symbols <n>', 'symbols', intOpt('--symbols'), 500)
    .option('--rows-per-symbol <n>', 'rows per symbol per date', intOpt('--rows-per-symbol'), 80_000)
    .option('--size <bytes>', 'target size, e.g. 2GB or 150GB (picks the number of dates)')
    .option('--seed <n>', 'random seed: the same seed gives identical digests', intOpt('--seed', 0), 1)
    .option('--workers <n>', 'generator threads', intOpt('--workers'))
    .action(
      action(async (ctx, o: { dates: number; symbols: number; rowsPerSymbol: number; size?: string; seed: number; workers?: number }) => {
        const bar = progressBar('generate', ctx.json);
        const s = await generateQuotes(ctx.home(), {
          dates: o.dates,
          symbols: o.symbols,
          rowsPerSymbol: o.rowsPerSymbol,
          seed: o.seed,
          ...(o.size ? { size: parseBytes(o.size) } : {}),
          ...(o.workers ? { workers: o.workers } : {}),
          onProgress: (d, t) => bar.update(d, t),
        });
        bar.stop();
        if (ctx.json) printJson(s);
        else process.stdout.write(`generated ${s.databases.join(', ')}: ${s.dates} date(s), ${s.partitions} partitions, ${s.rows} rows, ${formatBytes(s.bytes)} in ${s.seconds.toFixed(2)} s (${mbPerSec(s.bytes, s.seconds)} MB/s, fsync included)\n`);
      }),
    );
}

function registerDbCommands(program: Command): void {
  const db = program.command('db').description('inspect databases in the cluster');
  db.command('list')
    .description('list databases')
    .action(
      action((ctx) => {
        const c = ctx.cluster();
        const rows = listDatabases(c).map((p) => {
          return databaseSummary(c, p);
        });
        if (ctx.json) printJson(rows);
        else printTable(rows.map((r) => ({ ...r, tables: r.tables.join(','), bytes: formatBytes(r.bytes) })));
      }),
    );
  db.command('describe <dbPath>')
    .description('engine, partition scheme and tables of a database')
    .action(
      action((ctx, dbPath: string) => {
        const d = loadDatabase(ctx.cluster(), dbPath);
        if (ctx.json) printJson(d);
        else {
          printKeyValues({ dbPath: d.dbPath, engine: d.engine, scheme: describeScheme(d.scheme), created: d.created });
          printTable(Object.values(d.tables).map((t) => ({ table: t.name, columns: t.schema.map((s) => `${s.name} ${s.type}`).join(', '), partitionColumns: t.partitionColumns.join(','), sortColumns: t.sortColumns?.join(',') ?? '' })));
        }
      }),
    );
  db.command('partitions <dbPath>')
    .description('partitions: path, chunkId, node, volume, cid, rows, bytes, updateTime')
    .option('--table <t>', 'only this table')
    .action(
      action((ctx, dbPath: string, o: { table?: string }) => {
        const rows = partitionStats(ctx.cluster(), dbPath, o.table);
        if (ctx.json) printJson(rows);
        else printTable(rows.map((r) => ({ ...r, bytes: formatBytes(r.bytes) })));
      }),
    );
  db.command('digest <dbPath>')
    .description('content digest per table (equal exactly when contents are equal)')
    .option('--table <t>', 'only this table')
    .option('--partitions', 'also show per-partition rows and column checksums')
    .action(
      action((ctx, dbPath: string, o: { table?: string; partitions?: boolean }) => {
        const d = databaseDigest(ctx.cluster(), dbPath, o.table);
        if (ctx.json) printJson(o.partitions ? d : d.map(({ partitions, ...rest }) => ({ ...rest, partitionCount: partitions.length })));
        else printTable(d.map((t) => ({ table: t.table, rows: t.rows, partitions: t.partitions.length, digest: t.digest })));
      }),
    );
}

export function registerStoreCommands(program: Command): void {
  registerHomeCommands(program);
  registerDbCommands(program);
}
