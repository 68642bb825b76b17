import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SeenChunkIds, SeenPaths } from '../../src/repo/seen-names.js';

describe('seen names of a restore point', () => {
  it('SeenChunkIds refuses every id it has seen, also after its table grew many times', () => {
    const seen = new SeenChunkIds();
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    expect(ids.every((id) => seen.add(id))).toBe(true);
    expect(ids.some((id) => seen.add(id))).toBe(false);
    expect(seen.add('00000000-0000-4000-8000-000000000000')).toBe(true);
    expect(seen.add('00000000-0000-4000-8000-000000000000')).toBe(false);
  });

  it('SeenPaths refuses a repeated path while the paths come sorted and after they stop', () => {
    const seen = new SeenPaths();
    expect(['/Key0/a', '/Key0/b', '/Key1/a'].map((p) => seen.add(p))).toEqual([true, true, true]);
    expect(seen.add('/Key1/a')).toBe(false);
    expect(seen.add('/Key0/b')).toBe(false);
    expect(seen.add('/Key0/c')).toBe(true);
    expect(seen.add('/Key0/c')).toBe(false);
  });
});
