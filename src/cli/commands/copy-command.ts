import type { Command } from 'commander';
import { copyPoints, s3Retries, type CopyResult } from '../../engine/index.js';
import { formatBytes } from '../../common/units.js';
import { action } from '../action.js';
import { printJson, printKeyValues } from '../output.js';
import { addPipelineOptions, pipelineOptions } from '../pipeline-options.js';
import { toPasswordSource } from '../password.js';

type CopyFlags = { point?: string; toPasswordFile?: string; toPasswordCommand?: string; workers?: number; diskConcurrency?: number; netConcurrency?: number; createConcurrency?: number; maxRate?: string };

/**
 * `copy`: the source's password is the repository password (--password-file, --password-command,
 * $CHUNKVAULT_PASSWORD), the target's comes from --to-password-file, --to-password-command or
 * $CHUNKVAULT_TO_PASSWORD (docs/CLI.md, "copy"); each is read only when its side is encrypted.
 */
export function registerCopy(program: Command): void {
  addPipelineOptions(
    program
      .command('copy <srcRepo> <dstRepo> [dbPath]')
      .description('copy restore points between repositories (directories or s3://bucket/prefix, either way), incrementally: packs the target holds are not sent again')
      .option('--point <id>', 'only this restore point (id or unique prefix; needs dbPath)')
      .option('--to-password-file <file>', "the target repository's password from this file (else $CHUNKVAULT_TO_PASSWORD); a new target with a password is encrypted")
      .option('--to-password-command <cmd>', "the target repository's password from the output of this command (sh -c)"),
    'copy',
    false,
  ).action(
    action(async (ctx, src: string, dst: string, db: string | undefined, o: CopyFlags) => {
      const toPassword = toPasswordSource({ file: o.toPasswordFile, command: o.toPasswordCommand });
      const opts = { src, dst, password: ctx.password, toPassword, ...(db ? { dbPath: db } : {}), ...(o.point ? { point: o.point } : {}) };
      const res: CopyResult & { netRetries?: number } = await copyPoints({ ...opts, ...pipelineOptions(o) });
      const retries = await s3Retries();
      if (retries !== undefined) res.netRetries = retries;
      if (ctx.json) return printJson(res);
      printKeyValues({ ...res, bytes: formatBytes(res.bytes), seconds: res.seconds.toFixed(3) });
    }),
  );
}
