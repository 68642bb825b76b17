/** Files of lines read in pieces: a restore point or a catalog index at scale is never held whole. */

/**
 * The lines of a file read through `read(buf, position)` in 1 MiB pieces, as bytes: the file is
 * never held whole. A line is a view of one buffer, valid until the next line is asked for. The
 * partial line at the end of a piece is moved to the buffer's start and the next piece read after
 * it: joining it to each piece with Buffer.concat copied every byte of a file twice (~8% of `list`
 * at 100,000 partitions, issue 14). A line longer than the buffer doubles it.
 */
export function* lineBuffers(read: (buf: Buffer, position: number) => number, size = 1 << 20): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let carry = 0;
  for (let pos = 0; ; ) {
    if (carry === buf.length) buf = Buffer.concat([buf], buf.length * 2);
    const n = read(buf.subarray(carry), pos);
    if (n <= 0) break;
    pos += n;
    const end = carry + n;
    const piece = buf.subarray(0, end);
    let start = 0;
    for (let nl = piece.indexOf(0x0a, carry); nl >= 0; nl = piece.indexOf(0x0a, start)) {
      yield piece.subarray(start, nl);
      start = nl + 1;
    }
    carry = end - start;
    buf.copy(buf, 0, start, end);
  }
  if (carry) yield buf.subarray(0, carry);
}

/** The lines of a file read in pieces (`lineBuffers`), as text. */
export function* linesRead(read: (buf: Buffer, position: number) => number): Generator<string> {
  for (const line of lineBuffers(read)) yield line.toString('utf8');
}
