import { describe, expect, it } from 'vitest';
import { checkSpace } from '../../dist/bench/bench-layout.js';
import { CvError } from '../../dist/common/errors.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

describe('the bench layout', () => {
  it('refuses a run the disk has no room for with an IO error naming the room needed, not an internal error', () => {
    const dir = tmpDir('bench-layout');
    try {
      let err: unknown;
      try {
        checkSpace(dir, 1e18, 'data');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CvError);
      expect((err as CvError).code).toBe('IO');
      expect((err as Error).message).toMatch(/^not enough free space for data in .*: need about .* free/);
    } finally {
      rmTmp(dir);
    }
  });
});
