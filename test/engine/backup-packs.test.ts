import { describe, expect, it } from 'vitest';
import { PACK_MAX_ENTRIES, groupPacks } from '../../dist/engine/backup-packs.js';

/** A copy job of `bytes` on `volume`, shaped as groupPacks reads it. */
function job(bytes: number, volume = '/v0'): never {
  return { chunk: { volume, tables: { t: { bytes } } }, table: 't' } as never;
}
const disk = (j: { chunk: { volume: string } }) => j.chunk.volume;
const sizing = { shareBelow: 4 << 20, target: 16 << 20 };

describe('groupPacks', () => {
  it('spreads a small database that fits one pack over one pack per worker', () => {
    const jobs = Array.from({ length: 4000 }, () => job(1750));
    const packs = groupPacks(jobs, disk as never, sizing, 4);
    expect(packs).toHaveLength(4);
    expect(packs.map((p) => p.length)).toEqual([1000, 1000, 1000, 1000]);
  });

  it('puts at most PACK_MAX_ENTRIES entries in a pack, spread evenly, with no small last pack', () => {
    const jobs = Array.from({ length: 10 * PACK_MAX_ENTRIES + 1 }, () => job(100));
    const packs = groupPacks(jobs, disk as never, sizing, 4);
    expect(packs).toHaveLength(11);
    expect(packs.flat()).toHaveLength(jobs.length);
    expect(Math.max(...packs.map((p) => p.length))).toBeLessThanOrEqual(PACK_MAX_ENTRIES);
    expect(Math.min(...packs.map((p) => p.length))).toBeGreaterThan(0.9 * (jobs.length / 11));
  });

  it('spreads entries of uneven sizes over exactly one pack per worker, leaving no small last pack', () => {
    const jobs = Array.from({ length: 4001 }, (_, i) => job(1500 + ((i * 7919) % 1000)));
    const packs = groupPacks(jobs, disk as never, sizing, 4);
    expect(packs).toHaveLength(4);
    expect(packs.flat()).toHaveLength(4001);
  });

  it('spreads two runs of entries of different sizes (one table after another) over exactly one pack per worker', () => {
    const jobs = [...Array.from({ length: 2000 }, () => job(2400)), ...Array.from({ length: 2000 }, () => job(2040))];
    const packs = groupPacks(jobs, disk as never, sizing, 4);
    expect(packs).toHaveLength(4);
    expect(packs.flat()).toHaveLength(4000);
  });

  it('spreads empty entries by their count', () => {
    const packs = groupPacks(Array.from({ length: 9 }, () => job(0)), disk as never, sizing, 3);
    expect(packs.map((p) => p.length)).toEqual([3, 3, 3]);
  });

  it('still closes a pack at the target when the share per worker is larger', () => {
    const jobs = Array.from({ length: 20 }, () => job(3 << 20));
    const packs = groupPacks(jobs, disk as never, sizing, 2);
    expect(Math.max(...packs.map((p) => p.reduce((a, j) => a + (j as never as { chunk: { tables: { t: { bytes: number } } } }).chunk.tables.t.bytes, 0)))).toBeLessThanOrEqual(16 << 20);
    expect(packs.flat()).toHaveLength(20);
  });

  it('gives a large entry a pack of its own and spreads each disk separately', () => {
    const jobs = [job(8 << 20), ...Array.from({ length: 6 }, () => job(100, '/v0')), ...Array.from({ length: 6 }, () => job(100, '/v1'))];
    const packs = groupPacks(jobs, disk as never, sizing, 3);
    expect(packs[0]).toHaveLength(1);
    expect(packs.slice(1).map((p) => p.length)).toEqual([2, 2, 2, 2, 2, 2]);
  });
});
