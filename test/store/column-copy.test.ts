import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { concatVectors } from '../../dist/store/codec.js';
import { writeColumnFromSources, type ColumnSource } from '../../dist/store/column-copy.js';
import { writeColumnFile } from '../../dist/store/olap-format.js';
import type { ColumnDef, Vector } from '../../dist/store/index.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let dir: string | undefined;
afterEach(() => {
  rmTmp(dir);
  dir = undefined;
});

const sym = (n: number, names: string[], shift: number): Vector => ({ kind: 'sym', dict: names, codes: Uint32Array.from({ length: n }, (_, i) => (i * 7 + shift) % names.length) });
const num = (n: number, shift: number): Vector => ({ kind: 'num', type: 'TIMESTAMP', values: Float64Array.from({ length: n }, (_, i) => 1.3e12 + i * 1000 + shift) });

/** Sources: two column files (one longer than a copy range) and a vector, each with its own dictionary. */
function sources(col: ColumnDef, make: (n: number, k: number) => Vector): { srcs: ColumnSource[]; parts: Vector[] } {
  dir = tmpDir('column-copy');
  const parts = [make(70_001, 0), make(333, 1), make(1_000, 2)];
  const srcs: ColumnSource[] = parts.slice(0, 2).map((v, k) => {
    const file = path.join(dir!, `s${k}.col`);
    writeColumnFile(file, col, v, v.kind === 'sym' ? v.codes.length : (v.values as Float64Array).length, false);
    return { file };
  });
  srcs.push({ vector: parts[2]! });
  return { srcs, parts };
}

describe('a column file written from sources', () => {
  it('SYMBOL: has the bytes of the concatenated column, dictionaries merged in first-seen order', () => {
    const col: ColumnDef = { name: 's', type: 'SYMBOL' };
    const names = [['A', 'B', 'C'], ['C', 'D'], ['E', 'A', 'F', 'G']];
    const { srcs, parts } = sources(col, (n, k) => sym(n, names[k]!, k));
    writeColumnFromSources(path.join(dir!, 'out.col'), col, srcs, 71_334);
    writeColumnFile(path.join(dir!, 'want.col'), col, concatVectors('SYMBOL', parts), 71_334);
    expect(fs.readFileSync(path.join(dir!, 'out.col')).equals(fs.readFileSync(path.join(dir!, 'want.col')))).toBe(true);
  });

  it('TIMESTAMP: has the bytes of the concatenated column', () => {
    const col: ColumnDef = { name: 't', type: 'TIMESTAMP' };
    const { srcs, parts } = sources(col, num);
    writeColumnFromSources(path.join(dir!, 'out.col'), col, srcs, 71_334);
    writeColumnFile(path.join(dir!, 'want.col'), col, concatVectors('TIMESTAMP', parts), 71_334);
    expect(fs.readFileSync(path.join(dir!, 'out.col')).equals(fs.readFileSync(path.join(dir!, 'want.col')))).toBe(true);
  });

  it('a flipped byte in a source file fails with CORRUPT', () => {
    const col: ColumnDef = { name: 't', type: 'TIMESTAMP' };
    const { srcs } = sources(col, num);
    const f = (srcs[0] as { file: string }).file;
    const b = fs.readFileSync(f);
    b[b.length - 3] ^= 0x10;
    fs.writeFileSync(f, b);
    let err: unknown;
    try {
      writeColumnFromSources(path.join(dir!, 'out.col'), col, srcs, 71_334);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CvError);
    expect((err as CvError).code).toBe('CORRUPT');
  });
});
