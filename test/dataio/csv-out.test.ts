import { describe, expect, it } from 'vitest';
import { cellWriter } from '../../dist/dataio/csv-out.js';
import { formatValue, parseValue } from '../../dist/dataio/values.js';
import { NULL_VALUE, type ColType, type ColumnDef, type Vector } from '../../dist/store/index.js';

function write(type: ColType, values: number[]): string[] {
  const col: ColumnDef = { name: 'c', type };
  const arr = type === 'FLOAT' ? Float32Array.from(values) : type === 'TIMESTAMP' ? Float64Array.from(values) : Int32Array.from(values);
  const v: Vector = { kind: 'num', type, values: arr };
  const w = cellWriter(col, v, ',');
  const b = Buffer.alloc(64);
  return values.map((_, i) => b.toString('latin1', 0, w.write(b, 0, i)));
}

describe('the byte writer of export', () => {
  it('writes every FLOAT so that it reads back as the same float32, exactly as formatValue does (one implementation)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const vals = Array.from({ length: 20_000 }, (_, i) => Math.fround((rnd() - 0.5) * 10 ** ((i % 14) - 4)));
    vals.push(0, -0, 1, -1, 0.1, 9999999, 1e-3, 3.4028234663852886e38, 1e-30);
    const out = write('FLOAT', vals);
    out.forEach((s, i) => {
      expect(Math.fround(parseValue('FLOAT', s) as number), `${vals[i]} -> ${s}`).toBe(Math.fround(vals[i]!) || 0);
      expect(s, `${vals[i]}`).toBe(formatValue('FLOAT', Math.fround(vals[i]!)));
    });
  });

  it('writes TIMESTAMP, DATE, TIME and INT exactly as formatValue does, NULL as the empty field', () => {
    const cases: [ColType, number[]][] = [
      ['TIMESTAMP', [0, 1325410200123, -1, 253402300799999, -62135596800000, NULL_VALUE.TIMESTAMP as number]],
      ['DATE', [0, 15340, -1, 2932896, -719162, NULL_VALUE.DATE as number]],
      ['TIME', [0, 34200000, 86399999, NULL_VALUE.TIME as number]],
      ['INT', [0, 7, -7, 2147483647, -2147483647, NULL_VALUE.INT as number]],
    ];
    for (const [type, vals] of cases) expect(write(type, vals), type).toEqual(vals.map((v) => formatValue(type, v)));
  });
});
