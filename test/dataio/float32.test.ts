import { describe, expect, it } from 'vitest';
import { formatFloat32 } from '../../dist/dataio/float32.js';
import { formatValue } from '../../dist/dataio/values.js';

const digits = (s: string) => s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;

describe('formatFloat32', () => {
  it('gives every float32 in at most 9 significant digits that read back as it, and no shorter decimal does', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const vals = Array.from({ length: 20_000 }, (_, i) => Math.fround((rnd() - 0.5) * 10 ** ((i % 40) - 20)));
    // Each needs 9 significant digits: the old 6-8 digit search printed them as 17-digit doubles.
    vals.push(1.0380256376674168e-10, 1.0712361553366634e-11, 1000010940416, 0, 1, -1, 3.4028234663852886e38, 1.401298464324817e-45);
    for (const v of vals) {
      const s = formatFloat32(v);
      expect(Math.fround(Number(s)), `${v} -> ${s}`).toBe(v || 0);
      expect(digits(s), `${v} -> ${s}`).toBeLessThanOrEqual(9);
      const shorter = digits(s) - 1;
      if (shorter >= 1) expect(Math.fround(Number(v.toPrecision(shorter))), `${v} -> ${s}`).not.toBe(v);
    }
  });

  it('is what formatValue gives for FLOAT (JSONL export, db head), NULL as the empty string', () => {
    expect(formatValue('FLOAT', 1.0380256376674168e-10)).toBe('1.03802564e-10');
    expect(formatValue('FLOAT', 1000010940416)).toBe('1000010940000');
    expect(formatValue('FLOAT', Math.fround(0.1))).toBe('0.1');
    expect(formatValue('FLOAT', Math.fround(-2.5))).toBe('-2.5');
  });
});
