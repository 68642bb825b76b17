import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncfs, syncfsAsync } from '../../dist/common/syncfs-helper.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
beforeAll(() => (dir = scratchDir('syncfs')));
afterAll(() => rmTmp(dir));

/** The pids of this process's syncfs helpers (`sh -c … cv-syncfs`). */
function helpers(): number[] {
  const out = execFileSync('ps', ['-ww', '-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('cv-syncfs'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('syncfs', () => {
  it('serves many syncs from one helper process', () => {
    for (let i = 0; i < 5; i++) expect(syncfs([dir])).toBe(true);
    expect(helpers()).toHaveLength(1);
  });

  it('reports a sync that fails, and the helper answers the next one', () => {
    expect(syncfs([`${dir}/missing`])).toBe(false);
    expect(syncfs([dir])).toBe(true);
  });

  it('answers async syncs from the same helper', async () => {
    expect(await syncfsAsync([dir])).toBe(true);
    expect(await syncfsAsync([`${dir}/missing`])).toBe(false);
    expect(helpers()).toHaveLength(1);
  });

  it('serves a sync asked while an async one is in flight from a second helper, not a spawn', async () => {
    const inFlight = syncfsAsync([dir]);
    expect(syncfs([dir])).toBe(true);
    expect(await inFlight).toBe(true);
    expect(helpers()).toHaveLength(2);
  });

  it('still syncs by spawning sync -f when its helpers were killed', () => {
    for (const pid of helpers()) process.kill(pid, 'SIGKILL');
    expect(syncfs([dir])).toBe(true);
    expect(syncfs([`${dir}/missing`])).toBe(false);
  });

  it("ends a worker thread's helper when the thread exits", async () => {
    const module = new URL('../../dist/common/syncfs-helper.js', import.meta.url).href;
    // The thread stays until told to exit, so the helper is seen while it lives.
    const code = `const { parentPort } = require('node:worker_threads');
      parentPort.once('message', () => process.exit(0));
      import(${JSON.stringify(module)}).then((m) => parentPort.postMessage(m.syncfs([${JSON.stringify(dir)}])));`;
    const w = new Worker(code, { eval: true });
    expect(await new Promise((resolve) => w.once('message', resolve))).toBe(true);
    expect(helpers()).toHaveLength(1);
    w.postMessage('exit');
    await new Promise((resolve) => w.once('exit', resolve));
    for (let i = 0; i < 100 && helpers().length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(helpers()).toEqual([]);
  });
});
