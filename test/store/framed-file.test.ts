import fs from 'node:fs';
import path from 'node:path';
import xxhash from '@node-rs/xxhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_BYTES, parseHeader, writeFramed } from '../../dist/store/framed-file.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let root: string;
beforeAll(() => {
  root = tmpDir('framed');
});
afterAll(() => rmTmp(root));

const payload = Buffer.from('a payload of a few bytes, hashed into the header');
/** The header of a file writeFramed wrote, with rows above 2^32 so both words of the u64 count. */
function written(): Buffer {
  const file = path.join(root, `f-${Math.random().toString(36).slice(2)}.col`);
  writeFramed(file, { magic: 'CVCOL', typeId: 7, codeWidth: 2, count: 3, rows: 2 ** 40 + 5 }, [payload], false);
  return fs.readFileSync(file).subarray(0, HEADER_BYTES);
}
/** A header with bytes changed and its own checksum made right again: only the field checks can refuse it. */
function resealed(head: Buffer, change: (b: Buffer) => void): Buffer {
  const b = Buffer.from(head);
  change(b);
  b.writeBigUInt64LE(xxhash.xxh3.xxh64(b.subarray(0, 56)), 56);
  return b;
}

describe('parseHeader', () => {
  it('reads back every field writeFramed wrote, both words of the 64-bit counts included', () => {
    expect(parseHeader(written())).toEqual({ magic: 'CVCOL', typeId: 7, codeWidth: 2, count: 3, rows: 2 ** 40 + 5, payloadBytes: payload.length, payloadXxh3: xxhash.xxh3.xxh64(payload) });
  });

  it('refuses a header with any one byte flipped', () => {
    const head = written();
    for (let i = 0; i < HEADER_BYTES; i++) {
      const b = Buffer.from(head);
      b[i]! ^= 0x10;
      expect(typeof parseHeader(b), `byte ${i}`).toBe('string');
    }
  });

  it('refuses an unknown magic even when the header checksum matches', () => {
    expect(parseHeader(resealed(written(), (b) => b.write('CVXXX', 0, 'latin1')))).toBe('not a chunkvault data file');
  });

  it('refuses a payload length no Number holds exactly, and takes the largest one that does', () => {
    expect(parseHeader(resealed(written(), (b) => b.writeBigUInt64LE(2n ** 53n, 24)))).toBe('absurd payload length');
    expect(parseHeader(resealed(written(), (b) => b.writeBigUInt64LE(2n ** 53n - 1n, 24)))).toMatchObject({ payloadBytes: 2 ** 53 - 1 });
  });

  it('refuses fewer than 64 bytes', () => {
    expect(parseHeader(written().subarray(0, HEADER_BYTES - 1))).toBe('truncated header');
  });
});
