import { describe, expect, it } from 'vitest';
import { EntryTable } from '../../dist/repo/entry-table.js';
import { addPackIndex } from '../../dist/repo/pack-index-read.js';
import { sealJson } from '../../dist/repo/sealed-json.js';
import type { PackedEntry } from '../../dist/repo/pack-format.js';

const PACK = 'a'.repeat(32);
const CHUNK = '6b6d2023-d52a-491b-af91-36471ff5f386';
const WHAT = 'pack index test';

function entries(n: number): PackedEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `${CHUNK}/quotes/${i + 1}`,
    cid: i + 1,
    rows: 1,
    bytes: 10,
    updateTime: '2026-11-30T05:40:21.421Z',
    files: [{ name: 'time.col', size: 10, xxh3: '1713df918c5577be', blobs: [{ offset: 16 + 10 * i, length: 10, rawLength: 10, xxh3: '1713df918c5577be', compression: 'none' }] }],
  }));
}
const index = (es: PackedEntry[]) => ({ format: 1, pack: PACK, packSize: 16 + 10 * es.length, entries: es });
const bytes = (v: object) => Buffer.from(sealJson(v));
const keysOf = (t: EntryTable) => [...t.keys()];

describe('addPackIndex', () => {
  it('adds what a whole read of the index adds, an entry at a time', () => {
    const es = entries(5);
    const streamed = new EntryTable();
    addPackIndex(streamed, bytes(index(es)), PACK, WHAT);
    const whole = new EntryTable();
    whole.addPack(PACK, index(es).packSize, es);
    expect(keysOf(streamed)).toEqual(keysOf(whole));
    for (const e of es) expect(streamed.location(e.key)).toEqual(whole.location(e.key));
  });

  it('a sealed index with a bad entry after good ones is CORRUPT, and none of its entries is added', () => {
    const es = entries(4);
    es[3]!.files[0]!.blobs[0]!.offset = 20; // overlaps the blob before it
    const t = new EntryTable();
    expect(() => addPackIndex(t, bytes(index(es)), PACK, WHAT)).toThrow(/overlap or are out of order/);
    expect(t.size).toBe(0);
  });

  it('an index whose bytes no longer match its checksum is CORRUPT, and none of its entries is added', () => {
    const b = bytes(index(entries(3)));
    const at = b.indexOf('"rows":1');
    b[at + 7] = '2'.charCodeAt(0);
    const t = new EntryTable();
    expect(() => addPackIndex(t, b, PACK, WHAT)).toThrow(/checksum/);
    expect(t.size).toBe(0);
  });

  it('an index naming another pack is CORRUPT', () => {
    const t = new EntryTable();
    expect(() => addPackIndex(t, bytes({ ...index(entries(2)), pack: 'b'.repeat(32) }), PACK, WHAT)).toThrow(/not a pack index of pack/);
    expect(t.size).toBe(0);
  });

  it('an index with its fields after its entries is read whole, with the same result', () => {
    const es = entries(3);
    const { entries: _e, ...head } = index(es);
    const t = new EntryTable();
    addPackIndex(t, bytes({ entries: es, ...head }), PACK, WHAT);
    expect(keysOf(t)).toEqual(es.map((e) => e.key));
    expect(t.packSize(PACK)).toBe(head.packSize);
  });
});
