import { describe, expect, it } from 'vitest';
import { EntryTable } from '../../dist/repo/entry-table.js';
import type { PackedEntry } from '../../dist/repo/pack-format.js';

const PACK_A = 'a'.repeat(32);
const PACK_B = 'b'.repeat(32);
const FOREIGN = 'c'.repeat(32);

function entry(key: string, over: Partial<PackedEntry> = {}): PackedEntry {
  return {
    key,
    cid: Number(key.split('/')[2]),
    rows: 3,
    bytes: 30,
    updateTime: '2026-11-30T05:40:21.421Z',
    files: [{ name: 'time.col', size: 30, xxh3: '1713df918c5577be', blobs: [{ offset: 16, length: 30, rawLength: 30, xxh3: '1713df918c5577be', compression: 'none' }] }],
    ...over,
  };
}

/** A table past the entries it holds parsed (8,192): whatever is added to it is encoded as a record. */
function encodedTable(): EntryTable {
  const t = new EntryTable();
  t.addPack('d'.repeat(32), 1, Array.from({ length: 8192 }, (_, i) => entry(`filler/quotes/${i}`)));
  return t;
}

describe.each([
  ['held parsed', () => new EntryTable()],
  ['encoded', encodedTable],
])('EntryTable, entries %s', (_how, table) => {
  it('gives an entry back exactly as added: blobs split, compressed, encrypted, foreign, and counts past 2^32', () => {
    const big = 2 ** 40 + 7;
    const e = entry('6b6d2023-d52a-491b-af91-36471ff5f386/quotes/12', {
      rows: big,
      bytes: big + 5,
      updateTime: 'ünïcode time',
      files: [
        { name: 'price.col', size: big, xxh3: '0123456789abcdef', blobs: [
          { offset: 16, length: 100, rawLength: 4194304, xxh3: 'fedcba9876543210', compression: 'zstd-shuffle8', nonce: 'AAECAwQFBgcICQoL' },
          { offset: big, length: 90, rawLength: big - 4194304, xxh3: '0123456789abcdef', compression: 'zstd', nonce: 'DA0ODxAREhMUFRYX' },
        ] },
        { name: 'side.col', size: 5, xxh3: 'aaaaaaaaaaaaaaaa', blobs: [{ offset: 4, length: 5, rawLength: 5, xxh3: 'aaaaaaaaaaaaaaaa', compression: 'none', pack: FOREIGN }] },
      ],
    });
    const t = table();
    t.addPack(PACK_A, 123456, [e]);
    expect(t.location(e.key)).toEqual({ pack: PACK_A, packSize: 123456, entry: e });
    expect(t.location('nope/t/1')).toBeUndefined();
  });

  it('summarises an entry: its pack, what it stores there (foreign blobs take nothing), and whether a blob is foreign', () => {
    const t = table();
    const own = entry('k/quotes/1');
    const withForeign = entry('k/quotes/2', { files: [...own.files, { name: 'b.col', size: 7, xxh3: 'bbbbbbbbbbbbbbbb', blobs: [{ offset: 0, length: 7, rawLength: 7, xxh3: 'bbbbbbbbbbbbbbbb', compression: 'none', pack: FOREIGN }] }] });
    t.addPack(PACK_A, 1000, [own, withForeign]);
    expect(t.summary(own.key)).toEqual({ pack: PACK_A, stored: 30, foreign: false });
    expect(t.summary(withForeign.key)).toEqual({ pack: PACK_A, stored: 30, foreign: true });
    expect(t.packSize(PACK_A)).toBe(1000);
    expect(t.packSize(PACK_B)).toBeUndefined();
  });

  it('a key a later pack also holds is found in the later pack', () => {
    const t = table();
    t.addPack(PACK_A, 1000, [entry('k/quotes/1')]);
    t.addPack(PACK_B, 2000, [entry('k/quotes/1', { rows: 9 })]);
    expect(t.has('k/quotes/1')).toBe(true);
    expect(t.location('k/quotes/1')).toMatchObject({ pack: PACK_B, packSize: 2000, entry: { rows: 9 } });
  });

});

describe('EntryTable, from parsed to records', () => {
  it('encodes the entries it held once it holds too many, and a later pack still wins across the switch', () => {
    const t = new EntryTable();
    t.addPack(PACK_A, 1000, [entry('k/quotes/1'), entry('k/quotes/2')]);
    t.addPack(PACK_B, 2000, [entry('k/quotes/1', { rows: 9 }), ...Array.from({ length: 8192 }, (_, i) => entry(`f/quotes/${i}`))]);
    expect(t.size).toBe(8194);
    expect(t.location('k/quotes/1')).toMatchObject({ pack: PACK_B, entry: { rows: 9 } });
    expect(t.location('k/quotes/2')).toEqual({ pack: PACK_A, packSize: 1000, entry: entry('k/quotes/2') });
  });

  it('reads back every record when they fill more than one slab', () => {
    const t = new EntryTable();
    const n = 60_000; // ~100 bytes each: past one 4 MiB slab
    const all = Array.from({ length: n }, (_, i) => entry(`chunk${i}/quotes/${i}`, { rows: i }));
    t.addPack(PACK_A, 1, all);
    for (const i of [0, 1, 29_999, 41_000, n - 1]) expect(t.location(all[i]!.key)!.entry).toEqual(all[i]);
    expect([...t.keys()]).toHaveLength(n);
  });
});
