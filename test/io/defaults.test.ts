import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { PIPELINE_DEFAULTS, applyDefaults, describeDefault, restoreDefaults } from '../../dist/io/index.js';

const usageError = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof CvError ? err.code : err;
  }
  return 'no error';
};

describe('applyDefaults', () => {
  it('fills a copying operation with 4 workers, 4 tasks per disk and per S3 endpoint, no rate limit, stream, and 64 entries in flight', () => {
    expect(applyDefaults('copy', {})).toEqual({ kind: 'copy', workers: 4, diskConcurrency: 4, netConcurrency: 4, createConcurrency: 1, maxRate: 0, copyMethod: 'stream', inFlight: 64, workerNice: 0, postAhead: 8 });
  });

  it('fills a restore with one worker per core, 24 tasks queued ahead per worker, its workers at the restore nice value', () => {
    const cores = os.availableParallelism();
    expect(restoreDefaults()).toEqual({ kind: 'restore', workers: cores, diskConcurrency: 4, netConcurrency: 4, createConcurrency: 1, maxRate: 0, copyMethod: 'stream', inFlight: cores * 48, workerNice: 10, postAhead: 24 });
  });

  it('fills a restore with the workers and disk concurrency it is given', () => {
    const o = { workers: 3, diskConcurrency: 2 };
    expect(restoreDefaults(o)).toMatchObject({ workers: 3, diskConcurrency: 2, inFlight: 3 * PIPELINE_DEFAULTS.restore.postAhead * 2, workerNice: PIPELINE_DEFAULTS.restoreWorkerNice });
  });

  it('fills a hashing operation with one worker per core and workers x disk concurrency x 2 entries in flight', () => {
    const cores = os.availableParallelism();
    expect(applyDefaults('hash')).toMatchObject({ kind: 'hash', workers: cores, diskConcurrency: 4, inFlight: Math.max(4, cores * 4 * 2) });
  });

  it('keeps the values a caller gives and derives entries in flight from them', () => {
    expect(applyDefaults('copy', { workers: 3, diskConcurrency: 1, netConcurrency: 2, createConcurrency: 3, maxRate: 5e6, copyMethod: 'reflink' })).toEqual({ kind: 'copy', workers: 3, diskConcurrency: 1, netConcurrency: 2, createConcurrency: 3, maxRate: 5e6, copyMethod: 'reflink', inFlight: 3 * PIPELINE_DEFAULTS.postAhead * 2, workerNice: 0, postAhead: PIPELINE_DEFAULTS.postAhead });
    expect(applyDefaults('hash', { workers: 3, diskConcurrency: 2 }).inFlight).toBe(12);
  });

  it('keeps twice the tasks every copy worker queues in flight, and at least 4 hashing entries however few workers there are', () => {
    expect(applyDefaults('copy', { workers: 1 }).inFlight).toBe(PIPELINE_DEFAULTS.postAhead * 2);
    expect(applyDefaults('hash', { workers: 1, diskConcurrency: 1 }).inFlight).toBe(4);
  });

  it('refuses a worker count, disk, net or create concurrency that is not a positive integer as a usage error', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(usageError(() => applyDefaults('copy', { netConcurrency: bad }))).toBe('USAGE');
      expect(usageError(() => applyDefaults('restore', { createConcurrency: bad }))).toBe('USAGE');
      expect(usageError(() => applyDefaults('copy', { workers: bad }))).toBe('USAGE');
      expect(usageError(() => applyDefaults('hash', { diskConcurrency: bad }))).toBe('USAGE');
    }
  });

  it('refuses a negative or infinite rate as a usage error', () => {
    expect(usageError(() => applyDefaults('copy', { maxRate: -1 }))).toBe('USAGE');
    expect(usageError(() => applyDefaults('copy', { maxRate: Infinity }))).toBe('USAGE');
  });
});

describe('describeDefault', () => {
  it('shows the table\'s value as the CLI prints it', () => {
    expect(describeDefault('copy', 'workers')).toBe(String(PIPELINE_DEFAULTS.copy.workers));
    expect(describeDefault('hash', 'workers')).toBe('one per core');
    expect(describeDefault('restore', 'workers')).toBe('one per core');
    expect(describeDefault('hash', 'diskConcurrency')).toBe(String(PIPELINE_DEFAULTS.hash.diskConcurrency));
  });
});
