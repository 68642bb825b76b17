import type { Command } from 'commander';
import { copyPoints, s3Retries, type CopyResult } from '../../engine/index.js';
import { formatBytes } from '../../common/units.js';
import { action } from '../action.js';
import { printJson, printKeyValues } from '../output.js';
import { addPipelineOptions, pipelineOptions } from '../pipeline-options.js';

type CopyFlags = { point?: string; workers?: number; diskConcurrency?: number; netConcurrency?: number; maxRate?: string };

export function registerCopy(program: Command): void {
  addPipelineOptions(
    program
      .command('copy <srcRepo> <dstRepo> [dbPath]')
      .description('copy restore points between repositories (directories or s3://bucket/prefix, either way), incrementally: packs the target holds are not sent again')
      .option('--point <id>', 'only this restore point (id or unique prefix; needs dbPath)'),
    false,
  ).action(
    action(async (ctx, src: string, dst: string, db: string | undefined, o: CopyFlags) => {
      const res: CopyResult & { netRetries?: number } = await copyPoints({ src, dst, ...(db ? { dbPath: db } : {}), ...(o.point ? { point: o.point } : {}), ...pipelineOptions(o) });
      const retries = await s3Retries();
      if (retries !== undefined) res.netRetries = retries;
      if (ctx.json) return printJson(res);
      printKeyValues({ ...res, bytes: formatBytes(res.bytes), seconds: res.seconds.toFixed(3) });
    }),
  );
}
