import { describe, expect, it } from 'vitest';
import { wrapText } from '../../dist/cli/output.js';

describe('wrapText', () => {
  it('breaks at spaces so that no line, indent included, is wider than the width', () => {
    const text = wrapText('backup dfs://testdb to /a/rather/long/path and then some more words to wrap', 30, '  ');
    expect(text.split('\n').filter(Boolean).every((l) => l.length <= 30 && l.startsWith('  '))).toBe(true);
    expect(text.replace(/\n {2}/g, ' ').trim()).toBe('backup dfs://testdb to /a/rather/long/path and then some more words to wrap');
  });

  it('cuts a word longer than a line', () => {
    expect(wrapText('x'.repeat(25), 12, '  ')).toBe(`  ${'x'.repeat(10)}\n  ${'x'.repeat(10)}\n  xxxxx\n`);
  });
});
