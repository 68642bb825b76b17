import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchJobs, type PlacedJob } from '../../dist/engine/restore-copy.js';
import { CvError } from '../../dist/common/errors.js';
import { restoreDb } from '../../dist/engine/index.js';
import { PIPELINE_DEFAULTS, type CopyPipeline } from '../../dist/io/index.js';
import { runCli } from '../helpers/cli.js';
import { listFiles, rmTmp } from '../helpers/tmp.js';
import { repoDir } from './backup-helpers.js';
import { DB, backedUpSource, digests, partitionDigest, scratchDir, tablePaths } from './helpers-restore.js';

/** A placed job as batchJobs sees it: a disk and an entry of `files` files of `bytes` bytes. */
function job(id: number, disk: string, files: number, bytes: number): PlacedJob {
  const entry = { cid: id, rows: 1, bytes, files: Array.from({ length: files }, (_, i) => ({ name: `c${i}.col`, size: bytes / files, xxh3: '0' })) };
  return { job: { path: `/p${id}`, pair: { src: 't', dst: 't' }, srcChunkId: `k${id}`, entry, size: { cid: id, bytes, files } } as unknown as PlacedJob['job'], chunk: {} as PlacedJob['chunk'], dstDisk: disk };
}
const ids = (batches: PlacedJob[][]) => batches.map((b) => b.map((p) => p.job.path));

describe('batchJobs', () => {
  it('puts consecutive jobs bound for one disk into one batch, up to the file limit', () => {
    const jobs = Array.from({ length: 5 }, (_, i) => job(i, 'a', 3, 300));
    expect(ids(batchJobs(jobs, { bytes: 1 << 20, files: 6 }))).toEqual([['/p0', '/p1'], ['/p2', '/p3'], ['/p4']]);
  });

  it('cuts a batch at the byte limit, and a job above it is a batch of its own', () => {
    const jobs = [job(0, 'a', 1, 400), job(1, 'a', 1, 400), job(2, 'a', 1, 5000), job(3, 'a', 1, 100)];
    expect(ids(batchJobs(jobs, { bytes: 1000, files: 100 }))).toEqual([['/p0', '/p1'], ['/p2'], ['/p3']]);
  });

  it('never mixes disks in a batch, and keeps plan order within each disk', () => {
    const jobs = [job(0, 'a', 1, 1), job(1, 'b', 1, 1), job(2, 'a', 1, 1), job(3, 'b', 1, 1)];
    expect(ids(batchJobs(jobs, { bytes: 1000, files: 100 }))).toEqual([['/p0', '/p2'], ['/p1', '/p3']]);
  });

  it('with zero limits gives one job per batch (a throttled restore)', () => {
    const jobs = [job(0, 'a', 1, 1), job(1, 'a', 1, 1)];
    expect(ids(batchJobs(jobs, { bytes: 0, files: 0 }))).toEqual([['/p0'], ['/p1']]);
  });
});

describe('a restore that copies partitions in batches (repository v2)', () => {
  let dir: string, src: string, bak: string;
  beforeAll(async () => {
    dir = scratchDir('restore-copy');
    ({ home: src, bak } = await backedUpSource(dir, { repoFormat: 2 }));
  });
  afterAll(() => rmTmp(dir));

  it('a damaged blob fails only its own partition: every other partition of its batch is restored', () => {
    // The price column of one partition, found by its bytes in the packs (small blobs are stored
    // raw). quotes_2 holds the same rows, so the bytes may be either table's: the error says which.
    const part = tablePaths(src, DB, 'quotes').sort()[3]!;
    const priceFile = listFiles(path.join(src, 'volumes')).find((f) => f.includes(`/testdb${part}/`) && /\/quotes_\d+_\d+\/price\.col$/.test(f))!;
    const price = fs.readFileSync(path.join(src, 'volumes', priceFile));
    // The damaged partition shares its batch with others only while a batch holds two partitions' files.
    const files = fs.readdirSync(path.join(src, 'volumes', path.dirname(priceFile))).length;
    expect(PIPELINE_DEFAULTS.restoreBatchFiles).toBeGreaterThanOrEqual(2 * files);
    const packsDir = path.join(repoDir(bak, DB), 'packs');
    const hit = listFiles(packsDir).map((f) => ({ f: path.join(packsDir, f), buf: fs.readFileSync(path.join(packsDir, f)) })).find((p) => p.buf.indexOf(price) >= 0)!;
    expect(hit, 'the price column found in a pack').toBeDefined();
    hit.buf[hit.buf.indexOf(price) + (price.length >> 1)]! ^= 0x01;
    fs.writeFileSync(hit.f, hit.buf);

    const target = path.join(dir, 'target');
    const r = runCli(['--home', target, 'restore-db', bak, DB]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.errLines).toHaveLength(1);
    const failed = new RegExp(`failed for 1 partition\\(s\\): ${part} \\((quotes|quotes_2)\\)`).exec(r.errLines[0]!)?.[1];
    expect(failed, r.errLines[0]).toBeDefined();
    let restored = 0;
    for (const table of ['quotes', 'quotes_2']) {
      for (const p of tablePaths(src, DB, table)) {
        const got = partitionDigest(target, DB, table, p);
        if (p === part && table === failed) expect(got, `${table} ${p}`).toBeUndefined();
        else {
          expect(got, `${table} ${p}`).toEqual(partitionDigest(src, DB, table, p));
          restored++;
        }
      }
    }
    expect(restored).toBe(2 * tablePaths(src, DB, 'quotes').length - 1);
    // Stage directories, empty or not: none is left.
    expect(fs.readdirSync(path.join(target, 'volumes'), { recursive: true }).filter((f) => String(f).includes('_tid_')), 'no stage left').toEqual([]);
  });
});

describe('a restore cancelled while batches are being copied', () => {
  let dir: string, src: string, bak: string;
  beforeAll(async () => {
    dir = scratchDir('restore-cancel');
    // 200,000 rows a symbol: ~300 MB a table, so the copy outlasts several 200 ms progress ticks.
    ({ home: src, bak } = await backedUpSource(dir, { rowsPerSymbol: 200_000 }));
  }, 120_000);
  afterAll(() => rmTmp(dir));

  it('exits CANCELLED, leaves no stage behind, and a rerun restores every table exactly', async () => {
    const target = path.join(dir, 'target');
    let pipe: CopyPipeline | undefined;
    let cancelledAt = -1;
    const observer = {
      attach: (p: CopyPipeline) => void (pipe = p),
      bytes: (done: number) => {
        if (done > 0 && cancelledAt < 0) {
          cancelledAt = done;
          pipe!.cancel();
        }
      },
    };
    const err = await restoreDb({ home: target, backupDir: bak, dbPath: DB, observer }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(cancelledAt, 'cancelled while copying').toBeGreaterThan(0);
    expect(err).toBeInstanceOf(CvError);
    expect((err as CvError).code).toBe('CANCELLED');
    expect(fs.readdirSync(path.join(target, 'volumes'), { recursive: true }).filter((f) => String(f).includes('_tid_')), 'no stage left').toEqual([]);
    await restoreDb({ home: target, backupDir: bak, dbPath: DB });
    expect(digests(target, DB)).toEqual(digests(src, DB));
  });
});
