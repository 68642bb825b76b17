/**
 * FLOAT (float32) as its shortest decimal that reads back as the same float32: the one
 * implementation behind both `export`'s byte writer (csv-out.ts) and `formatValue` (JSONL, `db head`).
 */

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Writes n >= 0 as decimal digits at p (at least `width` of them, zero-padded); returns the end. */
export function writeUint(b: Uint8Array, p: number, n: number, width = 1): number {
  let len = 1;
  while (len < 16 && n >= POW10[len]!) len++;
  if (len < width) len = width;
  for (let i = p + len - 1; i >= p; i--) {
    const q = n < 2147483648 ? (n / 10) | 0 : Math.floor(n / 10);
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return p + len;
}

const fits = (a: number, k: number) => Math.fround(Math.round(a * POW10[k]!) / POW10[k]!) === a;

/**
 * Writes the float32 v at p in the fewest decimals (up to 8) that read back as v and returns the
 * end, or -1 outside 1e-3 <= |v| < 1e7 (the caller uses formatFloat32). If k decimals read back,
 * so do k + 1: the search starts at the last call's k (`hint`, one per column).
 */
export function writeFloat32(b: Uint8Array, p: number, v: number, hint: { k: number }): number {
  const a = Math.abs(v);
  if (!(a >= 1e-3 && a < 1e7) && v !== 0) return -1;
  let k = hint.k;
  if (fits(a, k)) while (k > 0 && fits(a, k - 1)) k--;
  else {
    do k++;
    while (k <= 8 && !fits(a, k));
    if (k > 8) return -1;
  }
  hint.k = k;
  // m's digits from the right, at least k + 1 of them, with the point before the last k.
  let n = Math.round(a * POW10[k]!);
  if (v < 0) b[p++] = 45;
  let len = 1;
  while (len < 16 && n >= POW10[len]!) len++;
  if (len <= k) len = k + 1;
  const end = p + len + (k ? 1 : 0);
  for (let i = end - 1, f = 0; i >= p; i--, f++) {
    if (f === k && k) {
      b[i] = 46;
      continue;
    }
    const q = n < 2147483648 ? (n / 10) | 0 : Math.floor(n / 10);
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

const scratch = Buffer.alloc(32);

/** The shortest decimal that reads back as the float32 v (9 significant digits always do). */
export function formatFloat32(v: number): string {
  const e = writeFloat32(scratch, 0, v, { k: 0 });
  if (e >= 0) return scratch.toString('latin1', 0, e);
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p < 9; p++) {
    const s = String(Number(v.toPrecision(p)));
    if (Math.fround(Number(s)) === v) return s;
  }
  return String(Number(v.toPrecision(9)));
}
