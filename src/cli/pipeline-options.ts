import type { Command } from 'commander';
import { usage } from '../common/errors.js';
import { parseBytes } from '../common/units.js';
import { DEFAULT_DISK_CONCURRENCY, DEFAULT_WORKERS, type PipelineOptions } from '../engine/index.js';
import type { CopyMethod } from '../io/index.js';
import { intOpt } from './action.js';

const METHODS: CopyMethod[] = ['auto', 'stream', 'copy-file-range', 'reflink'];

/** The tuning flags every copying command shares. */
export function addPipelineOptions(cmd: Command, withMethod = true): Command {
  cmd
    // Copies default to DEFAULT_WORKERS; check (no copy method) to one worker per core: the engine decides.
    .option('--workers <n>', withMethod ? `worker threads (default: ${DEFAULT_WORKERS})` : 'worker threads (default: one per core)', intOpt('--workers'))
    .option('--disk-concurrency <n>', 'tasks in flight per disk', intOpt('--disk-concurrency'), DEFAULT_DISK_CONCURRENCY)
    .option('--max-rate <rate>', 'shared rate limit per second, e.g. 200MB (200,000,000 B/s) or 64MiB');
  if (withMethod) cmd.option('--copy-method <m>', `copy method: ${METHODS.join('|')}`, 'stream');
  return cmd;
}

export function pipelineOptions(o: { workers?: number; diskConcurrency: number; maxRate?: string; copyMethod?: string }): PipelineOptions {
  if (o.copyMethod && !METHODS.includes(o.copyMethod as CopyMethod)) throw usage(`bad --copy-method "${o.copyMethod}": expected ${METHODS.join(', ')}`);
  return {
    ...(o.workers ? { workers: o.workers } : {}),
    diskConcurrency: o.diskConcurrency,
    maxRate: o.maxRate ? parseBytes(o.maxRate) : 0,
    ...(o.copyMethod ? { copyMethod: o.copyMethod as CopyMethod } : {}),
  };
}
