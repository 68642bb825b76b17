import type { Command } from 'commander';
import { usage } from '../../common/errors.js';
import { parseColumns, parseEngine, readSchemaFile, splitList, type DatabaseSpec } from '../../dataio/schema-spec.js';
import { parseScheme } from '../../dataio/scheme-parse.js';
import { exportTable } from '../../dataio/export.js';
import { createDatabase, createPartitionedTable, loadDatabase, type Cluster, type TableDef, type TableSpec } from '../../store/index.js';
import { action, intOpt } from '../action.js';
import { describeScheme } from '../describe.js';
import { printJson, printKeyValues, printTable } from '../output.js';

type DbFlags = { engine?: string; partition?: string; schema?: string; like?: string };

/** The database `db create` asks for: one of --partition, --schema or --like. */
function databaseSpec(c: Cluster, o: DbFlags): DatabaseSpec {
  const given = [o.partition, o.schema, o.like].filter((x) => x !== undefined).length;
  if (given !== 1) throw usage('db create needs exactly one of --partition <scheme>, --schema <file.json> or --like <dbPath>');
  if (o.schema) {
    const spec = readSchemaFile(o.schema);
    return o.engine ? { ...spec, engine: parseEngine(o.engine) } : spec;
  }
  if (o.like) {
    const src = loadDatabase(c, o.like);
    return { engine: o.engine ? parseEngine(o.engine) : src.engine, scheme: src.scheme, tables: [] };
  }
  return { engine: parseEngine(o.engine), scheme: parseScheme(o.partition!), tables: [] };
}

const tableJson = (dbPath: string, t: TableDef) => ({ dbPath, table: t.name, columns: t.schema, partitionColumns: t.partitionColumns, ...(t.sortColumns ? { sortColumns: t.sortColumns } : {}) });

function registerDbCreate(db: Command): void {
  db.command('create <dbPath>')
    .description('create a database: --partition "COMPO(HASH(SYMBOL,5), VALUE(DATE:2012.01.01..2012.12.31))", or --schema file.json (database and tables), or --like <dbPath>')
    .option('--engine <engine>', 'OLAP or TSDB (default OLAP; --like copies the engine)')
    .option('--partition <scheme>', 'a DolphinDB scheme: HASH(T,n), VALUE(T:v1 v2 a..b), RANGE(T:b1 b2 ...), LIST(T:[..],[..]), COMPO(level, level, ...)')
    .option('--schema <file>', 'a JSON file with engine, partition and tables')
    .option('--like <dbPath>', "copy another database's engine and partition scheme (not its tables)")
    .action(
      action((ctx, dbPath: string, o: DbFlags) => {
        const c = ctx.cluster();
        const spec = databaseSpec(c, o);
        // Check every table before anything is created, so a bad table leaves no database behind.
        for (const t of spec.tables) if (!t.schema.length) throw usage(`table ${t.name} has no columns`);
        const def = createDatabase(c, dbPath, spec.engine, spec.scheme);
        for (const t of spec.tables) createPartitionedTable(c, dbPath, t);
        const out = { dbPath, engine: def.engine, scheme: def.scheme, tables: spec.tables.map((t) => t.name) };
        if (ctx.json) printJson(out);
        else printKeyValues({ dbPath, engine: def.engine, scheme: describeScheme(def.scheme), tables: out.tables.join(', ') || '(none)' });
      }),
    );
}

type TableFlags = { columns?: string; partitionColumns?: string; sortColumns?: string; like?: string };

function tableSpec(c: Cluster, name: string, o: TableFlags): TableSpec {
  if (o.like) {
    const i = o.like.lastIndexOf('/');
    if (i < 'dfs://'.length) throw usage(`bad --like "${o.like}": expected <dbPath>/<table>, e.g. dfs://testdb/quotes`);
    const src = loadDatabase(c, o.like.slice(0, i)).tables[o.like.slice(i + 1)];
    if (!src) throw usage(`--like ${o.like}: no such table`);
    return { name, schema: src.schema, partitionColumns: o.partitionColumns ? splitList(o.partitionColumns) : src.partitionColumns, ...(o.sortColumns ? { sortColumns: splitList(o.sortColumns) } : src.sortColumns ? { sortColumns: src.sortColumns } : {}) };
  }
  if (!o.columns || !o.partitionColumns) throw usage('table create needs --columns name:TYPE,... and --partition-columns (or --like <dbPath>/<table>)');
  return { name, schema: parseColumns(o.columns), partitionColumns: splitList(o.partitionColumns), ...(o.sortColumns ? { sortColumns: splitList(o.sortColumns) } : {}) };
}

function registerTableCreate(program: Command): void {
  const table = program.command('table').description('create tables');
  table
    .command('create <dbPath> <table>')
    .description('create a partitioned table: --columns time:TIMESTAMP,symbol:SYMBOL,... --partition-columns symbol,time [--sort-columns symbol,time] (TSDB), or --like <dbPath>/<table>')
    .option('--columns <list>', 'name:TYPE,... (BOOL INT LONG DATE MONTH TIME TIMESTAMP FLOAT DOUBLE SYMBOL STRING)')
    .option('--partition-columns <list>', 'one column per level of the scheme, in level order')
    .option('--sort-columns <list>', 'TSDB: the columns rows are sorted by')
    .option('--like <dbPath/table>', "copy another table's schema (and partition and sort columns)")
    .action(
      action((ctx, dbPath: string, name: string, o: TableFlags) => {
        const c = ctx.cluster();
        const t = createPartitionedTable(c, dbPath, tableSpec(c, name, o));
        if (ctx.json) printJson(tableJson(dbPath, t));
        else printKeyValues({ table: `${dbPath}/${t.name}`, columns: t.schema.map((s) => `${s.name} ${s.type}`).join(', '), partitionColumns: t.partitionColumns.join(','), sortColumns: t.sortColumns?.join(',') ?? '' });
      }),
    );
}

function registerDbHead(db: Command): void {
  db.command('head <dbPath> <table>')
    .description('the first rows of a table (partitions in path order), as DolphinDB literals')
    .option('-n, --rows <n>', 'rows to show', intOpt('-n'), 10)
    .option('--partition <pattern>', 'only partitions matching this pattern (% any run, ? one character)')
    .action(
      action(async (ctx, dbPath: string, table: string, o: { rows: number; partition?: string }) => {
        const chunks: Buffer[] = [];
        const opts = { limit: o.rows, format: ctx.json ? ('jsonl' as const) : ('csv' as const), header: false, delimiter: '\t', ...(o.partition ? { partition: o.partition } : {}) };
        await exportTable(ctx.cluster(), dbPath, table, opts, (s) => void chunks.push(Buffer.from(s)));
        const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
        const columns = loadDatabase(ctx.cluster(), dbPath).tables[table]!.schema.map((s) => s.name);
        if (ctx.json) printJson({ columns, rows: lines.map((l) => JSON.parse(l) as unknown) });
        else printTable(lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [columns[i]!, v]))), columns);
      }),
    );
}

export function registerDataCommands(program: Command): void {
  const db = program.commands.find((c) => c.name() === 'db')!;
  registerDbCreate(db);
  registerDbHead(db);
  registerTableCreate(program);
}
