import { describe, expect, it } from 'vitest';
import { GroupFlusher } from '../../dist/engine/group-flush.js';

describe('GroupFlusher', () => {
  it('flushes a group once it holds the entry limit, in order, and the rest on flush()', async () => {
    const groups: number[][] = [];
    const g = new GroupFlusher<number>({ entries: 3, bytes: 1e9, ms: 60_000 }, async (items) => void groups.push(items));
    for (let i = 0; i < 7; i++) await g.add(i, 1);
    expect(groups).toEqual([[0, 1, 2], [3, 4, 5]]);
    await g.flush();
    expect(groups).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('flushes a group once it holds the byte limit', async () => {
    const groups: string[][] = [];
    const g = new GroupFlusher<string>({ entries: 100, bytes: 10, ms: 60_000 }, async (items) => void groups.push(items));
    expect(g.add('a', 4)).toBeUndefined();
    await g.add('b', 6);
    expect(groups).toEqual([['a', 'b']]);
  });

  it('flushes a lone item after the wait limit without being asked', async () => {
    const groups: string[][] = [];
    const g = new GroupFlusher<string>({ entries: 100, bytes: 1e9, ms: 20 }, async (items) => void groups.push(items));
    g.add('late', 1);
    await new Promise((r) => setTimeout(r, 80));
    expect(groups).toEqual([['late']]);
  });

  it('runs one group at a time, and after a failed group every later flush fails and runs nothing', async () => {
    let running = 0;
    let most = 0;
    const ran: string[][] = [];
    const g = new GroupFlusher<string>({ entries: 1, bytes: 1e9, ms: 60_000 }, async (items) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      ran.push(items);
      if (items[0] === 'bad') throw new Error('disk full');
    });
    const first = g.add('ok', 1);
    const bad = g.add('bad', 1);
    const after = g.add('after', 1);
    await first;
    await expect(bad).rejects.toThrow('disk full');
    await expect(after).rejects.toThrow('disk full');
    await expect(g.flush()).rejects.toThrow('disk full');
    expect(most).toBe(1);
    expect(ran).toEqual([['ok'], ['bad']]);
  });
});
