import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendFor, s3Spec, withAgents } from '../../../dist/repo/backend/index.js';
import { CEPH_REASON, ensureCeph, isRoot, newBucket, removeBucket } from '../../helpers/ceph.js';
import { ROOT } from '../../helpers/cli.js';

const BACKEND = pathToFileURL(path.join(ROOT, 'dist/repo/backend/index.js')).href;

/**
 * A thread like a copy worker: takes the task's agent links, then writes a 20 MiB object (a
 * multipart upload) and reads it back; reports how many threads the process gained meanwhile.
 */
const WORKER = `
const fs = require('node:fs');
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const m = await import(workerData.module);
  m.takeAgents(workerData.task);
  const before = fs.readdirSync('/proc/self/task').length;
  const b = m.backendFor(m.s3Spec(workerData.url, 'db'));
  const data = Buffer.alloc(20 << 20, 0x33);
  const s = b.create('packs/12/1234');
  for (let at = 0; at < data.length; at += 4 << 20) s.append(data.subarray(at, at + (4 << 20)));
  s.commit();
  const same = Buffer.from(b.read('packs/12/1234')).equals(data);
  parentPort.postMessage({ added: fs.readdirSync('/proc/self/task').length - before, same });
})();
`;

function inWorker(url: string, linked: boolean): Promise<{ added: number; same: boolean }> {
  const { payload, transfer } = linked ? withAgents({}) : { payload: {}, transfer: [] };
  const w = new Worker(WORKER, { eval: true, workerData: { module: BACKEND, url, task: payload }, transferList: transfer });
  return new Promise((resolve, reject) => {
    w.once('message', (m: { added: number; same: boolean }) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

describe.skipIf(!isRoot)("copy workers and the main thread's S3 agent (Ceph RGW)", () => {
  let bucket: string;
  beforeAll(async () => {
    ensureCeph();
    bucket = await newBucket('links');
    // The main thread's agent, as a command has it before its first task.
    backendFor(s3Spec(`s3://${bucket}/main`, 'db')).stat('packs/none');
  }, 300_000);
  afterAll(() => removeBucket(bucket));

  it('a worker whose task carries a link starts no agent of its own, and its multipart upload reads back', async () => {
    expect(await inWorker(`s3://${bucket}/linked`, true)).toEqual({ added: 0, same: true });
  }, 60_000);

  it('a worker without a link starts its own agent thread, and works the same', async () => {
    expect(await inWorker(`s3://${bucket}/alone`, false)).toEqual({ added: 1, same: true });
  }, 60_000);

  it('uploads of the main thread and a linked worker through one agent land each under its own name', async () => {
    const main = backendFor(s3Spec(`s3://${bucket}/both`, 'db'));
    const mine = Buffer.alloc(36 << 20, 0x5a);
    const s = main.create('packs/12/1234');
    // One 16 MiB part is sent, so the upload is open in the agent while the worker runs its own:
    // both threads number their first upload handle 1.
    s.append(mine.subarray(0, 17 << 20));
    const theirs = await inWorker(`s3://${bucket}/both/w`, true);
    s.append(mine.subarray(17 << 20));
    s.commit();
    expect(theirs).toEqual({ added: 0, same: true });
    expect(Buffer.from(main.read('packs/12/1234')!).equals(mine)).toBe(true);
  }, 60_000);
});

describe.skipIf(isRoot)("copy workers and the main thread's S3 agent (not root)", () => {
  it.skip(CEPH_REASON, () => undefined);
});
