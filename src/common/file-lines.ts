/** Files of lines read in pieces: a restore point or a catalog index at scale is never held whole. */

/** The lines of a file read through `read(buf, position)` in 1 MiB pieces, as bytes: the file is never held whole. */
export function* lineBuffers(read: (buf: Buffer, position: number) => number, size = 1 << 20): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let carry: Buffer | undefined;
  for (let pos = 0; ; ) {
    const n = read(buf, pos);
    if (n <= 0) break;
    pos += n;
    let chunk = buf.subarray(0, n);
    if (carry) chunk = Buffer.concat([carry, chunk]);
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      yield chunk.subarray(start, nl);
      start = nl + 1;
    }
    carry = start < chunk.length ? Buffer.from(chunk.subarray(start)) : undefined;
  }
  if (carry) yield carry;
}

/** The lines of a file read in pieces (`lineBuffers`), as text. */
export function* linesRead(read: (buf: Buffer, position: number) => number): Generator<string> {
  for (const line of lineBuffers(read)) yield line.toString('utf8');
}
