import { InvalidArgumentError, Option, type Command } from 'commander';
import { EXIT } from '../../common/errors.js';
import { PIPELINE_DEFAULTS } from '../../io/index.js';
import type { BackupAllResult, BackupOptions, BackupResult, BlobCodecSpec } from '../../engine/index.js';
import { backup } from '../../engine/backup.js';
import { backupAll } from '../../engine/backup-all.js';
import { listPoints } from '../../engine/points.js';
import { formatBytes } from '../../common/units.js';
import { action, collect, type Ctx } from '../action.js';
import { registerPrune } from './prune-command.js';
import { printJson, printKeyValues, printTable } from '../output.js';
import { addPipelineOptions, pipelineOptions } from '../pipeline-options.js';
import { runOperation } from '../run-operation.js';

type Flags = { skipIfUnchanged?: boolean; repoFormat?: number; compression?: BlobCodecSpec['compression']; force?: boolean; keepDropped?: boolean; table?: string[]; partition?: string[]; workers?: number; diskConcurrency: number; maxRate?: string; copyMethod?: string };

function runBackup(ctx: Ctx, backupDir: string, dbPath: string, o: Flags, extra: Partial<BackupOptions>) {
  return runOperation(
    ctx,
    { type: 'BACKUP_BY_COPY_FILE', desc: `backup ${dbPath} to ${backupDir}` },
    (observer, holder) =>
      backup({
        home: ctx.home(),
        password: ctx.password,
        backupDir,
        dbPath,
        ...allOptions(o),
        keepDropped: !!o.keepDropped,
        tables: o.table ?? [],
        partitions: o.partition ?? [],
        observer,
        holder,
        ...extra,
      }),
    (res: BackupResult) => {
      if (ctx.json) printJson(res);
      else {
        if (res.unchanged) process.stdout.write(`unchanged since restore point ${res.pointId}: no new point\n`);
        else printKeyValues({ ...res, bytesCopied: formatBytes(res.bytesCopied), bytesStored: formatBytes(res.bytesStored), bytesDeduplicated: formatBytes(res.bytesDeduplicated), seconds: res.seconds.toFixed(3) });
        if (res.sharesExtents) process.stdout.write('note: the copies are clones that share extents with the source; they are not physically independent\n');
      }
    },
  );
}

/** The options of runBackup that backup-all shares (everything but the selection of one database). */
function allOptions(o: Flags) {
  return {
    force: !!o.force,
    skipIfUnchanged: !!o.skipIfUnchanged,
    ...(o.repoFormat ? { repoFormat: o.repoFormat as 1 | 2 } : {}),
    ...(o.compression ? { compression: o.compression } : {}),
    ...pipelineOptions(o),
  };
}

/** backup-all: one row per database, the totals, and exit 10 (the job record's too) when some database failed. */
function runBackupAll(ctx: Ctx, backupDir: string, o: Flags) {
  return runOperation(
    ctx,
    { type: 'BACKUP_BY_COPY_FILE', desc: `backup-all of every database to ${backupDir}` },
    (observer, holder) => backupAll({ home: ctx.home(), password: ctx.password, backupDir, ...allOptions(o), observer, holder }),
    (res: BackupAllResult) => {
      const code = res.databases.some((d) => !d.success) ? EXIT.PARTIAL : EXIT.OK;
      if (ctx.json) {
        printJson(res);
        return code;
      }
      printTable(
        res.databases.map((d) =>
          d.success
            ? { dbPath: d.dbPath, partitions: d.partitions, skipped: d.skipped, bytesCopied: formatBytes(d.bytesCopied), seconds: d.seconds.toFixed(3), result: d.unchanged ? `unchanged since ${d.pointId}` : `point ${d.pointId}` }
            : { dbPath: d.dbPath, partitions: '', skipped: '', bytesCopied: '', seconds: '', result: `failed (${d.error.code}): ${d.error.message}` },
        ),
      );
      printKeyValues({ partitions: res.partitions, skipped: res.skipped, dropped: res.dropped, bytesCopied: formatBytes(res.bytesCopied), bytesStored: formatBytes(res.bytesStored), filesDeduplicated: res.filesDeduplicated, bytesDeduplicated: formatBytes(res.bytesDeduplicated), seconds: res.seconds.toFixed(3), mbPerSec: res.mbPerSec });
      return code;
    },
  );
}

/** --force and --parallel, shared by backup, backup-db, backup-table and backup-all. */
function withForce(cmd: Command): Command {
  return cmd
    .option('--force', 'copy everything again, replacing what the repository holds (repairs a damaged backup)')
    .option('--parallel', 'the default, accepted for DolphinDB parity: copies are always parallel (see --workers)')
    .option('--skip-if-unchanged', 'make no new restore point when nothing changed since the latest one (result: unchanged true)')
    .option('--repo-format <n>', 'format of a repository this backup creates: 1 (one file per column file, the default without a password) or 2 (packs; a new directory gets a config, encrypted when a password is given); an existing repository keeps its own', repoFormatOpt)
    .addOption(new Option('--compression <level>', "zstd level of the blobs this run writes (v2; default: the repository's, for a new one default)").choices(['off', 'fast', 'default', 'max']));
}

function repoFormatOpt(v: string): number {
  if (v !== '1' && v !== '2') throw new InvalidArgumentError('expected 1 or 2');
  return Number(v);
}

export function registerBackupCommands(program: Command): void {
  addPipelineOptions(
    withForce(program.command('backup <backupDir> <dbPath>').description('back up a database (DolphinDB backup): incremental unless --force; returns partitions copied'))
      .option('--keep-dropped', "keep partitions and tables dropped in the source (DolphinDB's snapshot=false)")
      .option('--table <t>', 'only this table (repeatable)', collect)
      .option('--partition <path>', 'only this partition, relative to the database, e.g. /Key3/tp/20120101 (repeatable)', collect),
  ).action(action((ctx, dir: string, db: string, o: Flags) => runBackup(ctx, dir, db, o, {})));

  addPipelineOptions(withForce(program.command('backup-db <backupDir> <dbPath>').description('back up a whole database (DolphinDB backupDB)'))).action(
    action((ctx, dir: string, db: string, o: Flags) => runBackup(ctx, dir, db, { ...o, keepDropped: false, table: [], partition: [] }, {})),
  );

  addPipelineOptions(withForce(program.command('backup-table <backupDir> <dbPath> <table>').description('back up one table (DolphinDB backupTable)'))).action(
    action((ctx, dir: string, db: string, table: string, o: Flags) => runBackup(ctx, dir, db, { ...o, keepDropped: false, table: [table], partition: [] }, {})),
  );

  addPipelineOptions(
    withForce(program.command('backup-all <backupDir>').description(`back up every database in the home, in one process (chunkvault's extension: backup-db of each, ${PIPELINE_DEFAULTS.backupDatabases} at a time, through one pipeline); exit ${EXIT.PARTIAL} if any database failed`)),
  ).action(action((ctx, dir: string, o: Flags) => runBackupAll(ctx, dir, o)));

  program
    .command('points <backupDir> <dbPath>')
    .description('list restore points: id, time, partitions, entries, bytes, bytes copied')
    .action(
      action((ctx, dir: string, db: string) => {
        const rows = listPoints(dir, db, ctx.password);
        if (ctx.json) printJson(rows);
        else printTable(rows.map((p) => ({ ...p, bytes: formatBytes(p.bytes), bytesStored: formatBytes(p.bytesStored), bytesCopied: formatBytes(p.bytesCopied) })));
      }),
    );

  registerPrune(program);
}
