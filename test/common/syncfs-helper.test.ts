import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncfs, syncfsAsync } from '../../dist/common/syncfs-helper.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string;
beforeAll(() => (dir = scratchDir('syncfs')));
afterAll(() => rmTmp(dir));

/** The pids of this process's syncfs helpers (`sh -c … cv-syncfs`). */
function helpers(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
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

  it('still syncs by spawning sync -f when its helper was killed', () => {
    const [pid] = helpers();
    process.kill(pid!, 'SIGKILL');
    expect(syncfs([dir])).toBe(true);
    expect(syncfs([`${dir}/missing`])).toBe(false);
  });
});
