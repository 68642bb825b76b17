import type { Command } from 'commander';
import { usage } from '../common/errors.js';
import { parseBytes } from '../common/units.js';
import { PIPELINE_DEFAULTS, describeDefault, type CopyMethod, type PipelineKind, type PipelineOptions } from '../io/index.js';
import { intOpt } from './action.js';

const METHODS: CopyMethod[] = ['auto', 'stream', 'copy-file-range', 'reflink'];

/** The tuning flags every pipeline command shares: copying ones (with a copy method; a restore's have their own defaults) and hashing ones (check, verify). */
export function addPipelineOptions(cmd: Command, kind: PipelineKind = 'copy', withMethod = kind !== 'hash'): Command {
  cmd
    // Help only: the engine fills what is not given from the same table (applyDefaults).
    .option('--workers <n>', `worker threads (default: ${describeDefault(kind, 'workers')})`, intOpt('--workers'))
    .option('--disk-concurrency <n>', `tasks running on a disk at once (default: ${describeDefault(kind, 'diskConcurrency')})`, intOpt('--disk-concurrency'))
    .option('--net-concurrency <n>', `tasks in flight per S3 endpoint (default: ${describeDefault(kind, 'netConcurrency')})`, intOpt('--net-concurrency'))
    .option('--max-rate <rate>', 'shared rate limit per second, e.g. 200MB (200,000,000 B/s) or 64MiB');
  if (withMethod) cmd.option('--create-concurrency <n>', `files and directories made on a disk at once (default: ${PIPELINE_DEFAULTS.createConcurrency})`, intOpt('--create-concurrency'));
  if (withMethod) cmd.option('--copy-method <m>', `copy method: ${METHODS.join('|')} (default: ${PIPELINE_DEFAULTS.copyMethod})`);
  return cmd;
}

export function pipelineOptions(o: { workers?: number; diskConcurrency?: number; netConcurrency?: number; createConcurrency?: number; maxRate?: string; copyMethod?: string }): PipelineOptions {
  if (o.copyMethod && !METHODS.includes(o.copyMethod as CopyMethod)) throw usage(`bad --copy-method "${o.copyMethod}": expected ${METHODS.join(', ')}`);
  return {
    ...(o.workers ? { workers: o.workers } : {}),
    ...(o.diskConcurrency ? { diskConcurrency: o.diskConcurrency } : {}),
    ...(o.netConcurrency ? { netConcurrency: o.netConcurrency } : {}),
    ...(o.createConcurrency ? { createConcurrency: o.createConcurrency } : {}),
    ...(o.maxRate ? { maxRate: parseBytes(o.maxRate) } : {}),
    ...(o.copyMethod ? { copyMethod: o.copyMethod as CopyMethod } : {}),
  };
}
