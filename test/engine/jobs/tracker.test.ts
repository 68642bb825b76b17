import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobTracker, getJobStatus } from '../../../dist/engine/index.js';
import { initCluster } from '../../../dist/store/index.js';
import { rmTmp, scratchDir } from '../../helpers/tmp.js';

let dir: string;
let home: string;
const META = { type: 'BACKUP_BY_COPY_FILE' as const, desc: 'backup for a test', args: [] };

beforeAll(() => {
  dir = scratchDir('tracker');
  home = path.join(dir, 'home');
  initCluster(home);
});
afterAll(() => rmTmp(dir));

describe('JobTracker.fail', () => {
  it('records an OS error that escaped without context (EACCES) as IO, exit code 6, as the CLI reports it', () => {
    const t = JobTracker.begin(home, META);
    t.fail(Object.assign(new Error('EACCES: permission denied, open /bak/x'), { code: 'EACCES', syscall: 'open', path: '/bak/x' }));
    const r = getJobStatus(home, t.jobId);
    expect([r.state, r.exitCode, r.errorMsg]).toEqual(['failed', 6, 'open: permission denied /bak/x']);
  });

  it('records an error without a system code (a bug) as INTERNAL, exit code 1', () => {
    const t = JobTracker.begin(home, META);
    t.fail(new TypeError('x is undefined'));
    expect(getJobStatus(home, t.jobId)).toMatchObject({ state: 'failed', exitCode: 1, errorMsg: 'x is undefined' });
  });
});
