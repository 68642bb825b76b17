import { describe, expect, it } from 'vitest';
import { lineBuffers } from '../../src/common/file-lines.js';

/** `read` over a buffer, as fs.readSync reads a file: into `buf` from `position`. */
const reader = (text: string) => {
  const all = Buffer.from(text);
  return (buf: Buffer, position: number) => all.copy(buf, 0, position, Math.min(all.length, position + buf.length));
};
/** Each line's text, taken as it is given: a line's bytes are valid until the next is asked for. */
const linesOf = (text: string, size: number) => Array.from(lineBuffers(reader(text), size), (b) => b.toString());

describe('lines of a file read in pieces', () => {
  it.each([1, 3, 8, 64])('gives every line whole, through pieces of %i bytes and lines longer than a piece', (size) => {
    const text = 'a\n\nbcdefghijklmnopqrstuvwxyz\n' + 'x'.repeat(100) + '\nlast';
    expect(linesOf(text, size)).toEqual(text.split('\n'));
  });

  it('a file that ends with a newline has no empty line after it', () => {
    expect(linesOf('one\ntwo\n', 4)).toEqual(['one', 'two']);
  });
});
