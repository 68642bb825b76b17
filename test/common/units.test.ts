import { describe, expect, it } from 'vitest';
import { formatBytes, formatRate, parseBytes } from '../../dist/common/units.js';

describe('parseBytes', () => {
  it('reads MB, GB and a bare M as powers of 10, like every MB/s the tool prints', () => {
    expect([parseBytes('200MB'), parseBytes('2GB'), parseBytes('3m'), parseBytes('10KB'), parseBytes('1.5TB')]).toEqual([200e6, 2e9, 3e6, 10e3, 1.5e12]);
  });

  it('reads KiB, MiB and GiB as powers of 2 when written', () => {
    expect([parseBytes('64KiB'), parseBytes('200MiB'), parseBytes('2gib')]).toEqual([64 * 1024, 200 * 1024 ** 2, 2 * 1024 ** 3]);
  });

  it('reads a plain number as bytes and refuses an unknown unit with a usage error', () => {
    expect(parseBytes('1048576')).toBe(1048576);
    expect(() => parseBytes('5 parsecs')).toThrow(/bad size/);
  });
});

describe('formatBytes', () => {
  it('shows sizes in the decimal units parseBytes reads, one decimal above bytes', () => {
    expect([formatBytes(0), formatBytes(999), formatBytes(84_400), formatBytes(1_234_567_890), formatBytes(3.04e12)]).toEqual(['0 B', '999 B', '84.4 KB', '1.2 GB', '3.0 TB']);
  });

  it('moves to the next unit where one decimal would round up to 1000', () => {
    expect([formatBytes(999_949), formatBytes(999_950)]).toEqual(['999.9 KB', '1.0 MB']);
  });

  it('formats a rate per second, and 0 as unlimited', () => {
    expect([formatRate(50e6), formatRate(0)]).toEqual(['50.0 MB/s', 'unlimited']);
  });
});
