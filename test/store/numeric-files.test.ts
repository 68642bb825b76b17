import { describe, expect, it } from 'vitest';
import { numberWidth, type ColumnDef } from '../../dist/store/index.js';

const quotes: ColumnDef[] = [
  { name: 'symbol', type: 'SYMBOL' },
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'price', type: 'DOUBLE' },
  { name: 'qty', type: 'INT' },
  { name: 'flag', type: 'BOOL' },
];

describe('numberWidth', () => {
  it('gives an OLAP column file its type\'s width when 4 or 8 bytes, and 0 for a SYMBOL, BOOL or unknown file', () => {
    expect(['time.col', 'price.col', 'qty.col'].map((f) => numberWidth('OLAP', quotes, f))).toEqual([8, 8, 4]);
    expect(['symbol.col', 'flag.col', 'other.col', 'price'].map((f) => numberWidth('OLAP', quotes, f))).toEqual([0, 0, 0, 0]);
  });

  it('gives a TSDB level file width 4 unless its table has a STRING column, and its dictionary 0', () => {
    expect(numberWidth('TSDB', quotes, '0_00000001')).toBe(4);
    expect(numberWidth('TSDB', quotes, 'chunk.dict')).toBe(0);
    expect(numberWidth('TSDB', [...quotes, { name: 'note', type: 'STRING' }], '0_00000001')).toBe(0);
  });
});
