import { describe, expect, it } from 'vitest';
import { parseFast } from '../../dist/dataio/fast-parse.js';
import { parseValue } from '../../dist/dataio/values.js';
import type { ColumnDef, Vector } from '../../dist/store/index.js';

const SCHEMA: ColumnDef[] = [
  { name: 't', type: 'TIMESTAMP' },
  { name: 'd', type: 'DATE' },
  { name: 'f', type: 'FLOAT' },
  { name: 'x', type: 'DOUBLE' },
  { name: 'i', type: 'INT' },
  { name: 's', type: 'SYMBOL' },
  { name: 'm', type: 'MONTH' },
];
const MAP = SCHEMA.map((_, i) => i);
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const cellOf = (v: Vector, i: number) => (v.kind === 'sym' ? v.dict[v.codes[i]!] : v.kind === 'str' ? v.values[i] : v.values[i]);

describe('the byte parser of a parallel load', () => {
  it('gives every cell the value parseValue gives its text, for the fast types and the others', () => {
    const rows = [
      ['2012.01.01T09:30:00.000', '2012.01.01', '93.80933', '0.1', '-2147483647', 'S00001', '2012.01M'],
      ['2012-02-29 23:59:59.999', '2012-12-31', '-0.5', '1e300', '+17', 'ÄÖ-long-symbol', '2012-03'],
      ['2012.01.01T09:30:00.5Z', '1970.01.01', '.25', '123456789012345678', '007', 'S00001', '1999.12M'],
      ['1969.12.31T23:59:59.999', '1900.03.01', '340000000000000000000000000000000000000', '-0', '0', 'B', '2000.01M'],
    ];
    const b = parseFast(bytes(rows.map((r) => r.join(',')).join('\n') + '\n'), SCHEMA, MAP, ',', '')!;
    expect(b.rows).toBe(rows.length);
    expect(Array.from(b.rowLines)).toEqual([1, 2, 3, 4]);
    SCHEMA.forEach((c, j) => {
      rows.forEach((r, i) => {
        const want = parseValue(c.type, r[j]!);
        const got = cellOf(b.cols[c.name]!, i);
        expect(got, `${c.name} ${r[j]}`).toEqual(c.type === 'FLOAT' ? Math.fround(want as number) : want);
      });
    });
  });

  it('reads the empty field, or the --null-string, as NULL, and skips blank lines (counting them)', () => {
    const b = parseFast(bytes('NA,NA,NA,NA,NA,NA,NA\n\n2012.01.01T00:00:00.000,2012.01.01,1,2,3,,2012.01M'), SCHEMA, MAP, ',', 'NA')!;
    expect(b.rows).toBe(2);
    expect(Array.from(b.rowLines)).toEqual([1, 3]);
    expect(cellOf(b.cols.s!, 0)).toBe('');
    expect(cellOf(b.cols.s!, 1)).toBe('');
    expect(cellOf(b.cols.i!, 0)).toBe(-2147483648);
  });

  it('leaves a piece with a quote, a CR, a bad value, a short or a long row to the record parser', () => {
    const ok = '2012.01.01T00:00:00.000,2012.01.01,1,2,3,A,2012.01M';
    expect(parseFast(bytes(ok + '\n'), SCHEMA, MAP, ',', '')).toBeDefined();
    expect(parseFast(bytes(ok.replace(',A,', ',"A",') + '\n'), SCHEMA, MAP, ',', '')).toBeUndefined();
    expect(parseFast(bytes(ok + '\r\n'), SCHEMA, MAP, ',', '')).toBeUndefined();
    expect(parseFast(bytes(ok.replace(',3,', ',three,') + '\n'), SCHEMA, MAP, ',', '')).toBeUndefined();
    expect(parseFast(bytes(ok.replace('2012.01.01,', '2012.02.30,') + '\n'), SCHEMA, MAP, ',', '')).toBeUndefined();
    expect(parseFast(bytes(ok.slice(0, ok.lastIndexOf(',')) + '\n'), SCHEMA, MAP, ',', '')).toBeUndefined();
    expect(parseFast(bytes(ok + ',extra\n'), SCHEMA, MAP, ',', '')).toBeUndefined();
  });
});
