import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedReads } from '../../dist/server/shared-reads.js';
import { cliJson } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

let dir: string, home: string;
beforeAll(() => {
  dir = scratchDir('shared-reads');
  home = path.join(dir, 'home');
  cliJson(['--home', home, 'init']);
});
afterAll(() => rmTmp(dir));

describe('reads shared by concurrent requests', () => {
  it('serves one scan of the job records for 200 ms, then scans again; invalidate forces a fresh scan', () => {
    let t = 1000;
    const reads = new SharedReads(home, () => t);
    const first = reads.records();
    expect(reads.records()).toBe(first);
    t += 201;
    expect(reads.records()).not.toBe(first);
    const second = reads.records();
    reads.invalidate();
    expect(reads.records()).not.toBe(second);
  });
});
