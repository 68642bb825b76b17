import { describe, expect, it } from 'vitest';
import { PartitionLines } from '../../dist/repo/partition-lines.js';
import type { ManifestPartition } from '../../dist/repo/manifest.js';

/** A partition whose line is about `pad` bytes long. */
const partition = (i: number, pad = 0): ManifestPartition =>
  ({ path: `/p${i}`, chunkId: `c${i}`, tables: { t: { cid: i, rows: 1, bytes: pad, files: [{ name: 'x'.repeat(pad), size: 1, xxh3: '0'.repeat(16) }] } } }) as unknown as ManifestPartition;

function linesOf(n: number, pad: number): PartitionLines {
  const lines = new PartitionLines();
  for (let i = 0; i < n; i++) {
    const p = partition(i, pad);
    lines.add(p, Buffer.from(JSON.stringify(p)));
  }
  return lines;
}

describe('PartitionLines', () => {
  it('gives back every partition as added, in order, across compressed slabs', () => {
    const lines = linesOf(3000, 1000); // ~3 MB: three sealed slabs and an open one
    expect(lines.length).toBe(3000);
    let i = 0;
    for (const p of lines) expect([p.chunkId, p.tables.t!.bytes]).toEqual([`c${i++}`, 1000]);
    expect(lines.at(1234).path).toBe('/p1234');
    expect(JSON.parse(lines.text(7)).chunkId).toBe('c7');
  });

  it('parses each partition of a small point once and keeps it', () => {
    const lines = linesOf(100, 100);
    const first = lines.at(0);
    lines.at(1);
    expect(lines.at(0)).toBe(first);
  });

  it('keeps the partition it was handed while the lines are small, so its first reader parses nothing', () => {
    const lines = new PartitionLines();
    const p = partition(0, 10);
    lines.add(p, Buffer.from(JSON.stringify(p)));
    const q = partition(1, 10);
    lines.add(q); // read whole: serialised to keep its line
    expect(lines.at(0)).toBe(p);
    expect(lines.at(1)).toBe(q);
    expect(JSON.parse(lines.text(1))).toEqual(q);
  });

  it('keeps no parsed partitions once the lines pass 8 MiB, so a huge point stays compact', () => {
    const lines = linesOf(9000, 1000); // ~9.2 MB of lines
    const first = lines.at(0);
    lines.at(1);
    const again = lines.at(0);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
