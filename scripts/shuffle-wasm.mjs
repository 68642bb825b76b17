#!/usr/bin/env node
// Builds the WebAssembly kernel of the byte shuffle (src/repo/codec/byte-shuffle.ts) and writes it,
// base64, to src/repo/codec/shuffle-wasm.ts. The kernel is generated here, not hand-written: each
// direction and width is a short network of i8x16.shuffle steps over 16 values at a time, and the
// tables below are the whole of it. `--check` compiles again and fails if the committed file differs
// (test/repo/codec/shuffle-wasm.test.ts runs it). Needs the devDependency wabt (WAT → binary).
//
//   node scripts/shuffle-wasm.mjs [--check]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'repo', 'codec', 'shuffle-wasm.ts');
/** Block size the memory holds twice: input at 0, output at BLOCK (byte-shuffle.ts's SHUFFLE_BLOCK). */
const BLOCK = 256 * 1024;

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);
const plus = (t, k) => t.map((x) => x + k);
// Byte p of 4 consecutive 8-byte values (two vectors) into i32 lane p: bytes 0-3 (IA8) or 4-7 (IB8).
const IA8 = [0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27];
const IB8 = plus(IA8, 4);
// Bytes 0 and 1 (SA4) or 2 and 3 (SB4) of 8 consecutive 4-byte values (two vectors), 8 bytes each.
const SA4 = [0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29];
const SB4 = plus(SA4, 2);
// Low or high halves of two vectors; the 4×4 transpose of i32 lanes (T0, T1) and its inverse (E0, E1).
const LO = [...range(0, 8), ...range(16, 24)];
const HI = [...range(8, 16), ...range(24, 32)];
const T0 = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const T1 = plus(T0, 8);
const E0 = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const E1 = plus(E0, 4);

const shuf = (t, a, b) => `(i8x16.shuffle ${t.join(' ')} (local.get $${a}) (local.get $${b}))`;
const set = (x, e) => `(local.set $${x} ${e})`;
const load = (x, addr) => set(x, `(v128.load ${addr})`);
const store = (addr, x) => `(v128.store ${addr} (local.get $${x}))`;
const at = (base, k) => `(i32.add (local.get $${base}) (i32.const ${k}))`;
/** Plane p's address for the group of values $i.. $i+15: dst (or src) + p·n + i. */
const plane = (base, p) => `(i32.add (i32.add (local.get $${base}) (local.get $i)) (i32.mul (local.get $n) (i32.const ${p})))`;

/** Transposes the i32 lanes of x0..x3 into y0..y3 (y_p = [x0.p, x1.p, x2.p, x3.p]), through u0..u3. */
const transpose = (x, y) => [set('u0', shuf(T0, x[0], x[1])), set('u1', shuf(T1, x[0], x[1])), set('u2', shuf(T0, x[2], x[3])), set('u3', shuf(T1, x[2], x[3])), set(y[0], shuf(LO, 'u0', 'u2')), set(y[1], shuf(HI, 'u0', 'u2')), set(y[2], shuf(LO, 'u1', 'u3')), set(y[3], shuf(HI, 'u1', 'u3'))];
const untranspose = (y, x) => [set('u0', shuf(LO, y[0], y[1])), set('u2', shuf(HI, y[0], y[1])), set('u1', shuf(LO, y[2], y[3])), set('u3', shuf(HI, y[2], y[3])), set(x[0], shuf(E0, 'u0', 'u1')), set(x[1], shuf(E1, 'u0', 'u1')), set(x[2], shuf(E0, 'u2', 'u3')), set(x[3], shuf(E1, 'u2', 'u3'))];

const V = range(0, 8).map((k) => `v${k}`);
const P = range(0, 8).map((k) => `p${k}`);
const A = range(0, 4).map((k) => `a${k}`);
const B = range(0, 4).map((k) => `b${k}`);

/** One group of 16 values, src values at $s + w·16·g, planes at $d + p·n + 16·g. */
function group(w, dir) {
  const vals = range(0, w).map((k) => [`v${k}`, at('sg', 16 * k)]);
  if (w === 4 && dir === 'shuffle')
    return [...vals.map(([x, a]) => load(x, a)), set('a0', shuf(SA4, 'v0', 'v1')), set('b0', shuf(SB4, 'v0', 'v1')), set('a1', shuf(SA4, 'v2', 'v3')), set('b1', shuf(SB4, 'v2', 'v3')), set('p0', shuf(LO, 'a0', 'a1')), set('p1', shuf(HI, 'a0', 'a1')), set('p2', shuf(LO, 'b0', 'b1')), set('p3', shuf(HI, 'b0', 'b1')), ...range(0, 4).map((p) => store(plane('d', p), P[p]))];
  if (w === 4)
    return [...range(0, 4).map((p) => load(P[p], plane('s', p))), set('a0', shuf(LO, 'p0', 'p1')), set('a1', shuf(HI, 'p0', 'p1')), set('b0', shuf(LO, 'p2', 'p3')), set('b1', shuf(HI, 'p2', 'p3')), set('v0', shuf(IA8, 'a0', 'b0')), set('v1', shuf(IB8, 'a0', 'b0')), set('v2', shuf(IA8, 'a1', 'b1')), set('v3', shuf(IB8, 'a1', 'b1')), ...vals.map(([x, a]) => store(a, x))];
  if (dir === 'shuffle')
    return [...vals.map(([x, a]) => load(x, a)), ...range(0, 4).flatMap((k) => [set(A[k], shuf(IA8, V[2 * k], V[2 * k + 1])), set(B[k], shuf(IB8, V[2 * k], V[2 * k + 1]))]), ...transpose(A, P.slice(0, 4)), ...transpose(B, P.slice(4)), ...range(0, 8).map((p) => store(plane('d', p), P[p]))];
  return [...range(0, 8).map((p) => load(P[p], plane('s', p))), ...untranspose(P.slice(0, 4), A), ...untranspose(P.slice(4), B), ...range(0, 4).flatMap((k) => [set(V[2 * k], shuf(SA4, A[k], B[k])), set(V[2 * k + 1], shuf(SB4, A[k], B[k]))]), ...vals.map(([x, a]) => store(a, x))];
}

/** The values past the last whole group, byte by byte: the definition itself (docs/FORMAT.md). */
function tail(w, dir) {
  const value = `(i32.add (local.get $${dir === 'shuffle' ? 's' : 'd'}) (i32.add (i32.mul (local.get $i) (i32.const ${w})) (local.get $p)))`;
  const planeByte = `(i32.add (local.get $${dir === 'shuffle' ? 'd' : 's'}) (i32.add (i32.mul (local.get $p) (local.get $n)) (local.get $i)))`;
  const [from, to] = dir === 'shuffle' ? [value, planeByte] : [planeByte, value];
  return `(block $done (loop $vals (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $p (i32.const 0))
      (loop $bytes (i32.store8 ${to} (i32.load8_u ${from}))
        (local.set $p (i32.add (local.get $p) (i32.const 1))) (br_if $bytes (i32.lt_u (local.get $p) (i32.const ${w}))))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $vals)))`;
}

function func(w, dir) {
  const vecs = [...V, ...P, ...A, ...B, 'u0', 'u1', 'u2', 'u3'].map((x) => `(local $${x} v128)`).join(' ');
  return `(func (export "${dir}${w}") (param $s i32) (param $d i32) (param $n i32)
    (local $sg i32) (local $end i32) (local $i i32) (local $p i32) ${vecs}
    (local.set $end (i32.shl (i32.shr_u (local.get $n) (i32.const 4)) (i32.const 4)))
    (block $done (loop $groups (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $sg (i32.add (local.get $${dir === 'shuffle' ? 's' : 'd'}) (i32.mul (local.get $i) (i32.const ${w}))))
      ${group(w, dir).join('\n      ')}
      (local.set $i (i32.add (local.get $i) (i32.const 16))) (br $groups)))
    ${tail(w, dir)})`;
}

// A fixed size (minimum = maximum): the kernel never grows it, so views of it never go stale.
const wat = `(module (memory (export "memory") ${(2 * BLOCK) / 65536} ${(2 * BLOCK) / 65536})
  ${['shuffle', 'unshuffle'].flatMap((dir) => [4, 8].map((w) => func(w, dir))).join('\n  ')})`;

const wabt = await wabtInit();
const mod = wabt.parseWat('shuffle.wat', wat, { simd: true });
mod.validate();
const { buffer } = mod.toBinary({});
const b64 = Buffer.from(buffer).toString('base64');
const text = `// Generated by scripts/shuffle-wasm.mjs (the byte shuffle's SIMD kernel); do not edit: run the script.
export const SHUFFLE_WASM = '${b64}';
`;
if (process.argv.includes('--check')) {
  if (fs.readFileSync(OUT, 'utf8') !== text) {
    console.error(`${OUT} is not what scripts/shuffle-wasm.mjs builds: run it`);
    process.exit(1);
  }
} else fs.writeFileSync(OUT, text);
