/**
 * Micro benchmark of the repository's blob codec (src/repo/codec): encode and decode of one
 * quotes partition's columns laid out as the store writes them (int64 times, float32 prices and
 * volumes, 1-byte symbol codes), about 4.6 MB, for each compression level with and without
 * AES-256-GCM. One thread, data in memory: the CPU cost per byte, not the pipeline's MB/s (the
 * packs branch's bench integration measures that).
 */
import { Bench } from 'tinybench';
import { rows, type MicroRow } from './micro-rows.js';
import { generatePartition } from '../generate/quotes.js';
import { codecFor, type BlobCodecSpec } from '../engine/index.js';
import { randomBytes } from 'node:crypto';

/** One partition of 20 symbols x 12,000 rows, as column files would hold it, concatenated. */
export function quotesBlob(): Buffer {
  const symbols = Array.from({ length: 20 }, (_, i) => `S${String(i).padStart(5, '0')}`);
  const { cols, rows } = generatePartition(1, 15340, symbols, 12_000);
  const parts: Buffer[] = [];
  for (const v of Object.values(cols)) {
    if (v.kind === 'sym') parts.push(Buffer.from(Uint8Array.from(v.codes)));
    else if (v.kind === 'num' && v.type === 'TIMESTAMP') parts.push(Buffer.from(BigInt64Array.from(v.values as Float64Array, (x) => BigInt(x)).buffer));
    else if (v.kind === 'num') parts.push(Buffer.from((v.values as Float32Array).buffer));
  }
  if (parts.length === 0 || rows === 0) throw new Error('internal: no columns');
  return Buffer.concat(parts);
}

const SPECS: [string, Omit<BlobCodecSpec, 'masterKey'>][] = [
  ['off, none', { compression: 'off', encryption: 'none' }],
  ['off, aes-256-gcm', { compression: 'off', encryption: 'aes-256-gcm' }],
  ['fast, none', { compression: 'fast', encryption: 'none' }],
  ['default, none', { compression: 'default', encryption: 'none' }],
  ['default, aes-256-gcm', { compression: 'default', encryption: 'aes-256-gcm' }],
  ['max, none', { compression: 'max', encryption: 'none' }],
];

export async function codecMicro(): Promise<MicroRow[]> {
  const plain = quotesBlob();
  const masterKey = randomBytes(32).toString('base64');
  const bench = new Bench({ time: 500, iterations: 10, warmupIterations: 2 });
  const stored = new Map<string, number>();
  for (const [name, s] of SPECS) {
    const codec = codecFor({ ...s, masterKey });
    const e = codec.encode(plain);
    stored.set(name, e.bytes.length);
    bench.add(`encode (${name})`, () => void codec.encode(plain));
    bench.add(`decode (${name})`, () => void codec.decode(e.bytes, e.compression, e.nonce));
  }
  await bench.run();
  const group = `blob codec, ${(plain.length / 1e6).toFixed(1)} MB of quotes columns (one thread)`;
  return rows(group, bench, (t, meanMs) => {
    const spec = t.name.replace(/^\w+ \((.*)\)$/, '$1');
    const ratio = ((stored.get(spec) ?? 0) / plain.length).toFixed(3);
    return `${(plain.length / 1e3 / meanMs).toFixed(0)} MB/s, ${ratio}`;
  });
}
