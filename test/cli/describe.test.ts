import { describe, expect, it } from 'vitest';
import { describeScheme } from '../../dist/cli/describe.js';
import { dateToDays } from '../../dist/store/index.js';

const day = (d: number) => dateToDays(2012, 1, d);

describe('describeScheme', () => {
  it('shows DATE values as DolphinDB literals (2012.01.01), not their stored day numbers', () => {
    const s = describeScheme({ type: 'COMPO', levels: [{ type: 'HASH', colType: 'SYMBOL', buckets: 5 }, { type: 'VALUE', colType: 'DATE', values: [day(1), day(2)] }] });
    expect(s).toBe('COMPO: HASH(SYMBOL, 5 buckets) × VALUE(DATE: 2012.01.01, 2012.01.02)');
  });

  it('shortens a long value list to its first values, the last, and the count', () => {
    const s = describeScheme({ type: 'RANGE', colType: 'DATE', bounds: Array.from({ length: 31 }, (_, i) => day(i + 1)) });
    expect(s).toBe('RANGE(DATE: 2012.01.01, 2012.01.02, 2012.01.03, 2012.01.04, …, 2012.01.31 (31 values))');
  });
});
