import xxhash from '@node-rs/xxhash';
import { describe, expect, it } from 'vitest';
import { linesRead } from '../../src/common/file-lines.js';
import { sealJson, sealJsonRuns, unsealJson, unsealJsonBytes, unsealJsonLines } from '../../src/repo/sealed-json.js';

const body = { format: 2, skipped: undefined, partitions: [{ path: '/Key0/tp/20120101', n: 1 }, { path: '/Key1/tp/20120101', n: 2 }], empty: [], stats: { a: 'é"' } };
const compactXxh3 = (v: unknown) => 'xxh3:' + xxhash.xxh3.Xxh3.withSeed(0n).update(Buffer.from(JSON.stringify(v))).digest().toString(16).padStart(16, '0');

describe('sealJson', () => {
  it('seals with the xxh3 of the compact JSON of the body, as before it was written in pieces', () => {
    expect((JSON.parse(sealJson(body)) as { checksum: string }).checksum).toBe(compactXxh3(body));
  });

  it('writes one element of a top-level array per line', () => {
    const lines = sealJson(body).split('\n');
    expect(lines).toContain('{"path":"/Key0/tp/20120101","n":1},');
    expect(lines).toContain('{"path":"/Key1/tp/20120101","n":2}');
  });

  it('gives the same text in runs as in one string', () => {
    expect([...sealJsonRuns(body)].join('')).toBe(sealJson(body));
  });
});

describe('unsealJson', () => {
  it('reads what sealJson wrote', () => {
    expect(JSON.parse(JSON.stringify(unsealJson(sealJson(body), 't')))).toEqual(JSON.parse(JSON.stringify(body)));
  });

  it('reads the older indented layout with the same checksum', () => {
    const old = JSON.stringify({ ...body, checksum: compactXxh3(body) }, null, 1);
    expect(unsealJson(old, 't').format).toBe(2);
  });

  it('refuses a sealed text whose body was edited', () => {
    expect(() => unsealJson(sealJson(body).replace('"n":2', '"n":3'), 't')).toThrow(/does not match its checksum/);
  });
});

describe('unsealJsonBytes', () => {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

  it('reads the one-partition-per-line layout as unsealJson does', () => {
    expect(plain(unsealJsonBytes(Buffer.from(sealJson(body)), 't'))).toEqual(plain(unsealJson(sealJson(body), 't')));
  });

  it('reads the older indented layout', () => {
    const old = JSON.stringify({ ...body, checksum: compactXxh3(body) }, null, 1);
    expect(plain(unsealJsonBytes(Buffer.from(old), 't'))).toEqual(plain(body));
  });

  it('reads an element whose text ends in a comma', () => {
    const b = { format: 2, names: ['a,', 'b,'] };
    expect(plain(unsealJsonBytes(Buffer.from(sealJson(b)), 't'))).toEqual(b);
  });

  it('gives objects without a prototype, element by element, as parsing the file whole does', () => {
    const b = { format: 2, items: [{ constructor: 'x', n: { toString: 1 } }] };
    const got = unsealJsonBytes(Buffer.from(sealJson(b)), 't') as { items: { n: object }[] };
    expect(Object.getPrototypeOf(got)).toBeNull();
    expect(Object.getPrototypeOf(got.items[0])).toBeNull();
    expect(Object.getPrototypeOf(got.items[0]!.n)).toBeNull();
    expect(plain(got)).toEqual(b);
  });

  it('refuses an edited line', () => {
    expect(() => unsealJsonBytes(Buffer.from(sealJson(body).replace('"n":2', '"n":3')), 't')).toThrow(/does not match its checksum/);
  });

  it('refuses text that is not JSON', () => {
    expect(() => unsealJsonBytes(Buffer.from('{\n"format":2,\n'), 't')).toThrow(/not valid JSON/);
  });
});

describe('linesRead', () => {
  /** A reader that hands out at most 3 bytes per call, so lines (and a UTF-8 character) cross pieces. */
  const reader = (text: string) => {
    const src = Buffer.from(text);
    return (buf: Buffer, position: number) => src.copy(buf, 0, position, Math.min(src.length, position + 3));
  };

  it('gives the lines of a file read in small pieces', () => {
    expect([...linesRead(reader('{\n"a":"é",\n"b":[\n1\n]\n}\n'))]).toEqual(['{', '"a":"é",', '"b":[', '1', ']', '}']);
  });

  it('feeds unsealJsonLines to the same body as unsealJson', () => {
    const text = sealJson(body);
    expect(JSON.stringify(unsealJsonLines(linesRead(reader(text)), () => text, 't'))).toBe(JSON.stringify(unsealJson(text, 't')));
  });
});
