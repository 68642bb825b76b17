import type { Command } from 'commander';
import { EXIT } from '../../common/errors.js';
import { migrate, restore, restoreDb, restoreTable, type MigrateResult, type RestoreResult } from '../../engine/index.js';
import { formatBytes } from '../../common/units.js';
import { action, type Ctx } from '../action.js';
import { printJson, printKeyValues, printTable } from '../output.js';
import { addPipelineOptions, pipelineOptions } from '../pipeline-options.js';
import { runOperation } from '../run-operation.js';

type Flags = { force?: boolean; outputTable?: string; keepExtra?: boolean; asOf?: string; workers?: number; diskConcurrency: number; maxRate?: string; copyMethod?: string };

function summary(r: { partitions: number; bytes: number; seconds: number; mbPerSec: number }, extra: Record<string, unknown>) {
  printKeyValues({ ...extra, partitions: r.partitions, bytes: formatBytes(r.bytes), seconds: r.seconds.toFixed(3), mbPerSec: r.mbPerSec });
}

function renderRestore(ctx: Ctx, withPaths: boolean) {
  return (r: RestoreResult) => {
    if (ctx.json) return printJson(r);
    if (withPaths) for (const p of r.restoredPaths) process.stdout.write(`${p}\n`);
    else printTable(r.tables as unknown as Record<string, unknown>[]);
    summary(r, { pointId: r.pointId, targetDbPath: r.targetDbPath, skipped: r.skipped, deleted: r.deleted });
  };
}

const common = (ctx: Ctx, o: Flags) => ({ home: ctx.home(), password: ctx.password, ...(o.asOf ? { asOf: o.asOf } : {}), ...pipelineOptions(o) });

function withCommon(cmd: Command): Command {
  return addPipelineOptions(cmd.option('--as-of <point>', 'restore point id or ISO time (default: the latest point)'), 'restore');
}

export function registerRestoreCommands(program: Command): void {
  withCommon(
    program
      .command('restore <backupDir> <dbPath> <table> <pattern>')
      .description('restore the partitions of a table that match a pattern over /<dbName>/<path> (% any run, ? one character); prints the restored paths')
      .option('--force', 'copy even partitions whose target already holds the restore point\'s data')
      .option('--output-table <t>', 'restore into this existing table of the same schema')
      .option('--parallel', 'the default, accepted for DolphinDB parity: copies are always parallel (see --workers)')
      .option('--keep-extra', "with %, keep target partitions the restore point lacks (DolphinDB's snapshot=false)"),
  ).action(
    action((ctx, dir: string, db: string, table: string, pattern: string, o: Flags) =>
      runOperation(
        ctx,
        { type: 'RESTORE_BY_COPY_FILE', desc: `restore ${db} ${table} ${pattern} from ${dir}`, layoutHome: !o.outputTable },
        (observer, holder) =>
          restore({ ...common(ctx, o), backupDir: dir, dbPath: db, table, pattern, force: !!o.force, keepExtra: !!o.keepExtra, ...(o.outputTable ? { outputTable: o.outputTable } : {}), observer, holder }),
        renderRestore(ctx, true),
      ),
    ),
  );

  withCommon(program.command('restore-db <backupDir> <dbPath> [newDbPath]').description('restore a whole database, creating it and its tables if missing (DolphinDB restoreDB)')).action(
    action((ctx, dir: string, db: string, newDb: string | undefined, o: Flags) =>
      runOperation(
        ctx,
        { type: 'RESTORE_BY_COPY_FILE', desc: `restore-db ${db} from ${dir}${newDb ? ` into ${newDb}` : ''}`, layoutHome: true },
        (observer, holder) => restoreDb({ ...common(ctx, o), backupDir: dir, dbPath: db, ...(newDb ? { newDbPath: newDb } : {}), observer, holder }),
        renderRestore(ctx, false),
      ),
    ),
  );

  withCommon(
    program.command('restore-table <backupDir> <dbPath> <table> [newDbPath] [newTable]').description('restore one table, creating the database and table if missing (DolphinDB restoreTable)'),
  ).action(
    action((ctx, dir: string, db: string, table: string, newDb: string | undefined, newTable: string | undefined, o: Flags) =>
      runOperation(
        ctx,
        { type: 'RESTORE_BY_COPY_FILE', desc: `restore-table ${db} ${table} from ${dir}`, layoutHome: true },
        (observer, holder) =>
          restoreTable({ ...common(ctx, o), backupDir: dir, dbPath: db, table, ...(newDb ? { newDbPath: newDb } : {}), ...(newTable ? { newTable } : {}), observer, holder }),
        renderRestore(ctx, false),
      ),
    ),
  );

  withCommon(
    program
      .command('migrate <backupDir> [dbPath] [table] [newDbPath] [newTable]')
      .description('restore every database in a backup directory (or one database or table) into new targets; exit 10 if any row failed'),
  ).action(
    action(async (ctx, dir: string, db: string | undefined, table: string | undefined, newDb: string | undefined, newTable: string | undefined, o: Flags) => {
      let failed = false;
      await runOperation(
        ctx,
        { type: 'MIGRATE', desc: `migrate ${db ?? 'every database'} from ${dir}`, layoutHome: true },
        (observer, holder) =>
          migrate({
            ...common(ctx, o),
            backupDir: dir,
            ...(db ? { dbPath: db } : {}),
            ...(table ? { table } : {}),
            ...(newDb ? { newDbPath: newDb } : {}),
            ...(newTable ? { newTable } : {}),
            observer,
            holder,
          }),
        (r: MigrateResult) => {
          failed = r.rows.some((x) => !x.success);
          if (ctx.json) return printJson(r);
          printTable(r.rows as unknown as Record<string, unknown>[]);
          summary(r, {});
        },
      );
      return failed ? EXIT.PARTIAL : EXIT.OK;
    }),
  );
}
