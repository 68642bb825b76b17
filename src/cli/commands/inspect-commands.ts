import type { Command } from 'commander';
import { EXIT, usage } from '../../common/errors.js';
import { formatBytes } from '../../common/units.js';
import { PIPELINE_DEFAULTS } from '../../io/index.js';
import { checkAll, checkBackup, getBackupList, getBackupMeta, verifyRestore, type CheckAllResult, type CheckResult } from '../../engine/index.js';
import { action, collect, type Ctx } from '../action.js';
import { printJson, printKeyValues, printPlainJson, printTable } from '../output.js';
import { addPipelineOptions, pipelineOptions } from '../pipeline-options.js';
import { runOperation } from '../run-operation.js';

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usage(`${name} must be a positive number, got "${v}"`);
  return n;
};

type CheckFlags = { strict?: boolean; table?: string[]; partition?: string; asOf?: string; sample?: number; maxDuration?: number; workers?: number; diskConcurrency: number; maxRate?: string };

/** Entries no restore point explains: listed, and a failure only under --strict (restic's check --strict). */
function renderExtras(r: CheckResult): void {
  for (const [what, list] of [['unexpected', r.unexpected], ['unreferenced', r.unreferenced]] as const)
    for (const e of list) process.stdout.write(`${what}: ${e.path} (${e.kind})\n`);
}

/** What one database's check found, and its exit code. */
function renderCheck(json: boolean, strict: boolean, r: CheckResult, label = ''): number {
  if (json) printJson(r);
  else {
    if (r.bad.length)
      printTable(
        r.bad.map((b) => ({ ...b, files: b.files.map((f) => `${f.name}: ${f.problem} (${f.detail})`).join('; ') })),
        ['dbName', 'tableName', 'chunkPath', 'chunkID', 'partitionPath', 'cid', 'problem', 'files'],
      );
    else process.stdout.write(`${label}no bad chunks\n`);
    renderExtras(r);
    process.stdout.write(
      `${label}checked ${r.entriesChecked} of ${r.entriesInScope} entries (${r.filesChecked} files, ${formatBytes(r.bytesChecked)}) of restore point ${r.pointId} in ${r.seconds.toFixed(2)} s: ${r.mbPerSec} MB/s\n`,
    );
    if (r.coverage) {
      const c = r.coverage;
      process.stdout.write(
        label +
          (c.passComplete
            ? `pass complete: all ${c.total} entries covered (${c.badInPass} bad found during the pass); passes completed: ${c.passesCompleted}\n`
            : `coverage of this pass: ${c.checked} of ${c.total} entries (${c.percent}%), ${c.badInPass} bad so far; passes completed: ${c.passesCompleted}\n`),
      );
    }
  }
  return checkCode(strict, r);
}

/** 8 for bad chunks, or for extras under --strict; else 0. */
function checkCode(strict: boolean, r: CheckResult): number {
  const extras = r.unexpected.length + r.unreferenced.length > 0;
  return r.bad.length || (strict && extras) ? EXIT.CHECK_FAILED : 0;
}

/** A check of every database: each one's report, then the totals; exit 8 if any is bad, else 10 if one could not be checked. */
function renderCheckAll(json: boolean, strict: boolean, r: CheckAllResult): number {
  const bad = r.databases.some((d) => d.success && checkCode(strict, d) !== 0);
  if (json) printJson(r);
  else
    for (const d of r.databases) {
      if (d.success) renderCheck(false, strict, d, `${d.dbPath}: `);
      else process.stdout.write(`${d.dbPath}: not checked (${d.error.code}): ${d.error.message}\n`);
    }
  if (!json) process.stdout.write(`checked ${r.entriesChecked} of ${r.entriesInScope} entries (${r.filesChecked} files, ${formatBytes(r.bytesChecked)}) of ${r.databases.length} databases in ${r.seconds.toFixed(2)} s: ${r.mbPerSec} MB/s\n`);
  return bad ? EXIT.CHECK_FAILED : r.databases.some((d) => !d.success) ? EXIT.PARTIAL : EXIT.OK;
}

function registerPointQueries(program: Command): void {
  program
    .command('list <backupDir> <dbPath> <table>')
    .description('list the backed-up partitions of a table (DolphinDB getBackupList): chunkID, chunkPath, cid, rows, updateTime')
    .option('--as-of <point>', 'a restore point id or an ISO time (default: the latest point)')
    .action(
      action((ctx, dir: string, db: string, table: string, o: { asOf?: string }) => {
        const rows = getBackupList(dir, db, table, o.asOf, ctx.password);
        if (ctx.json) printPlainJson(rows);
        else printTable(rows as unknown as Record<string, unknown>[], ['chunkID', 'chunkPath', 'cid', 'rows', 'updateTime']);
      }),
    );

  program
    .command('meta <backupDir> <dbPath> <partition> <table>')
    .description('show one backed-up partition of a table (DolphinDB getBackupMeta): schema, dfsPath, rows, chunkID, cid')
    .option('--as-of <point>', 'a restore point id or an ISO time (default: the latest point)')
    .action(
      action((ctx, dir: string, db: string, partition: string, table: string, o: { asOf?: string }) => {
        const m = getBackupMeta(dir, db, partition, table, o.asOf, ctx.password);
        if (ctx.json) return printJson(m);
        printKeyValues({ dfsPath: m.dfsPath, rows: m.rows, chunkID: m.chunkID, cid: m.cid, partitionPath: m.partitionPath, updateTime: m.updateTime, pointId: m.pointId });
        process.stdout.write('\n');
        printTable(m.schema as unknown as Record<string, unknown>[], ['name', 'typeString', 'typeInt', 'extra', 'comment']);
      }),
    );
}

function registerCheck(program: Command): void {
  addPipelineOptions(
    program
      .command('check <backupDir> [dbPath]')
      .description(
        `re-hash every file of a restore point (DolphinDB checkBackup); prints only bad chunks; exit ${EXIT.CHECK_FAILED} when any is bad. Without dbPath: every database of the backup directory in one process, ${PIPELINE_DEFAULTS.checkDatabases} at a time (exit ${EXIT.PARTIAL} when one could not be checked and none is bad)`,
      )
      .option('--table <t>', 'only this table (repeatable)', collect)
      .option('--partition <pattern>', 'only partitions matching this pattern over paths with the database name, e.g. %/Key4/tp/%')
      .option('--as-of <point>', 'a restore point id or an ISO time (default: the latest point)')
      .option('--sample <percent>', 'check this share of the scope, continuing where the last such run stopped', positive('--sample'))
      .option('--max-duration <seconds>', 'start no new entry after this long; the next run continues from there', positive('--max-duration'))
      .option('--strict', `also exit ${EXIT.CHECK_FAILED} when the repository holds unexpected or unreferenced entries (they are always listed)`),
    'hash',
  ).action(action((ctx, dir: string, db: string | undefined, o: CheckFlags) => runCheck(ctx, dir, db, o)));
}

function runCheck(ctx: Ctx, dir: string, db: string | undefined, o: CheckFlags) {
  const common = {
    password: ctx.password,
    backupDir: dir,
    ...(o.partition !== undefined ? { partition: o.partition } : {}),
    ...(o.asOf !== undefined ? { asOf: o.asOf } : {}),
    ...(o.sample !== undefined ? { samplePercent: o.sample } : {}),
    ...(o.maxDuration !== undefined ? { maxDurationSec: o.maxDuration } : {}),
    ...pipelineOptions(o),
  };
  if (db === undefined) {
    if (o.table?.length) throw usage('check: --table needs a database (tables are per database)');
    return runOperation(ctx, { type: 'CHECK', desc: `check backup of every database in ${dir}` }, (observer, holder) => checkAll({ ...common, observer, holder }), (r) => renderCheckAll(ctx.json, !!o.strict, r));
  }
  return runOperation(
    ctx,
    { type: 'CHECK', desc: `check backup of ${db} in ${dir}` },
    (observer, holder) => checkBackup({ ...common, dbPath: db, tables: o.table ?? [], observer, holder }),
    (r) => renderCheck(ctx.json, !!o.strict, r),
  );
}

function registerVerify(program: Command): void {
  addPipelineOptions(
    program
      .command('verify <backupDir> <dbPath> [targetDbPath]')
      .description(`verify a restored database against a restore point: every partition, row count and file checksum; exit ${EXIT.CHECK_FAILED} on any difference`)
      .option('--table <t>', 'only this table (repeatable)', collect)
      .option('--as-of <point>', 'a restore point id or an ISO time (default: the latest point)'),
    'hash',
  ).action(
    action((ctx, dir: string, db: string, target: string | undefined, o: CheckFlags) =>
      runOperation(
        ctx,
        { type: 'CHECK', desc: `verify ${target ?? db} against the backup of ${db} in ${dir}` },
        (observer, holder) =>
          verifyRestore({
            password: ctx.password,
            home: ctx.home(),
            backupDir: dir,
            dbPath: db,
            ...(target ? { targetDbPath: target } : {}),
            tables: o.table ?? [],
            ...(o.asOf !== undefined ? { asOf: o.asOf } : {}),
            ...pipelineOptions(o),
            observer,
            holder,
          }),
        (r) => {
          if (ctx.json) printJson(r);
          else {
            if (r.problems.length) printTable(r.problems as unknown as Record<string, unknown>[]);
            process.stdout.write(`${r.problems.length ? `${r.problems.length} difference(s)` : 'verified'}: ${r.targetDbPath} against restore point ${r.pointId}; ${r.entriesChecked} table partitions, ${formatBytes(r.bytesChecked)} hashed at ${r.mbPerSec} MB/s\n`);
          }
          return r.problems.length ? EXIT.CHECK_FAILED : 0;
        },
      ),
    ),
  );
}

export function registerInspectCommands(program: Command): void {
  registerPointQueries(program);
  registerCheck(program);
  registerVerify(program);
}
