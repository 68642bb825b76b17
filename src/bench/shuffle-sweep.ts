/**
 * The sweep behind the byte shuffle of blobs of numbers (src/repo/codec/byte-shuffle.ts): every
 * data file of a generated quotes home is encoded in 4 MiB blobs by the repository's codec at one
 * level, as the packs do it, two ways: plain zstd, and as the writer does it (shuffled at the
 * width the store gives the file, store numberWidth, when the codec's sample test agrees). One
 * thread, data in memory.
 *
 *   node dist/cli/main.js --home H generate --dates 1 --symbols 100
 *   node dist/bench/shuffle-sweep.js --home H [--level default] [--out bench-results] [--label shuffle-sweep]
 *
 * Writes <out>/<date>-<label>.json and .md: per file kind, stored/raw and CPU seconds each way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codecFor, zstdVersion, type BlobCodec, type BlobCodecSpec } from '../engine/index.js';
import { QUOTES_DBS, QUOTES_SCHEMA } from '../generate/quotes.js';
import { numberWidth } from '../store/index.js';
import { dataFilePaths, isMainModule, sweepArg, writeSweep } from './sweep-cli.js';

const BLOB = 4 << 20;

interface KindRow {
  kind: string;
  width: number;
  files: number;
  rawBytes: number;
  plain: { stored: number; seconds: number };
  shuffled: { stored: number; seconds: number; blobsShuffled: number; blobs: number };
}

/** Encodes `data` in blobs; returns the stored bytes, the CPU-bound seconds and how many blobs came out shuffled. */
function encodeAll(codec: BlobCodec, data: Buffer, width: 0 | 4 | 8): { stored: number; seconds: number; shuffled: number; blobs: number } {
  let stored = 0;
  let shuffled = 0;
  let blobs = 0;
  const t0 = process.hrtime.bigint();
  for (let at = 0; at < data.length; at += BLOB) {
    const e = codec.encode(data.subarray(at, at + BLOB), width || undefined);
    stored += e.bytes.length;
    blobs++;
    if (e.compression.startsWith('zstd-shuffle')) shuffled++;
  }
  return { stored, seconds: Number(process.hrtime.bigint() - t0) / 1e9, shuffled, blobs };
}

function kindOf(file: string): { kind: string; width: 0 | 4 | 8 } {
  const db = QUOTES_DBS.find((d) => file.split(path.sep).includes(d.dbPath.slice('dfs://'.length)));
  const engine = db?.engine ?? 'OLAP';
  const name = path.basename(file);
  const width = numberWidth(engine, QUOTES_SCHEMA, name);
  return { kind: engine === 'OLAP' ? `OLAP ${name}` : /^\d_/.test(name) ? 'TSDB level file' : `TSDB ${name}`, width };
}

export function runShuffleSweep(home: string, compression: BlobCodecSpec['compression']) {
  const codec = codecFor({ compression, encryption: 'none' });
  const rows = new Map<string, KindRow>();
  const before = os.loadavg();
  for (const p of dataFilePaths(home)) {
    const { kind, width } = kindOf(p);
    const data = fs.readFileSync(p);
    const r = rows.get(kind) ?? { kind, width, files: 0, rawBytes: 0, plain: { stored: 0, seconds: 0 }, shuffled: { stored: 0, seconds: 0, blobsShuffled: 0, blobs: 0 } };
    rows.set(kind, r);
    r.files++;
    r.rawBytes += data.length;
    const a = encodeAll(codec, data, 0);
    const b = encodeAll(codec, data, width);
    r.plain.stored += a.stored;
    r.plain.seconds += a.seconds;
    r.shuffled.stored += b.stored;
    r.shuffled.seconds += b.seconds;
    r.shuffled.blobsShuffled += b.shuffled;
    r.shuffled.blobs += b.blobs;
  }
  return { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', loadavg: { before, after: os.loadavg() }, zstd: zstdVersion(), compression, home, rows: [...rows.values()] };
}

export function shuffleSweepMarkdown(r: ReturnType<typeof runShuffleSweep>): string {
  const L = [`# Byte shuffle sweep on the quotes data (--compression ${r.compression})`, ''];
  L.push(`${r.date}, ${r.cpuModel}, ${r.cpus} cores, Node ${r.node}, ${r.zstd}; load average ${r.loadavg.before[0]!.toFixed(1)} before, ${r.loadavg.after[0]!.toFixed(1)} after.`, '');
  L.push('Each file encoded in 4 MiB blobs by the codec, one thread, data in memory; "shuffled" is what the writer does (the store\'s width, then the sample test).', '');
  L.push('| file kind | width | files | raw MB | plain: stored/raw | plain: CPU s | shuffled: stored/raw | shuffled: CPU s | blobs shuffled |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const tot = { raw: 0, a: 0, as: 0, b: 0, bs: 0 };
  for (const x of r.rows) {
    L.push(`| ${x.kind} | ${x.width || '—'} | ${x.files} | ${(x.rawBytes / 1e6).toFixed(1)} | ${(x.plain.stored / x.rawBytes).toFixed(3)} | ${x.plain.seconds.toFixed(3)} | ${(x.shuffled.stored / x.rawBytes).toFixed(3)} | ${x.shuffled.seconds.toFixed(3)} | ${x.shuffled.blobsShuffled} of ${x.shuffled.blobs} |`);
    tot.raw += x.rawBytes;
    tot.a += x.plain.stored;
    tot.as += x.plain.seconds;
    tot.b += x.shuffled.stored;
    tot.bs += x.shuffled.seconds;
  }
  L.push(`| **all** | | | ${(tot.raw / 1e6).toFixed(1)} | ${(tot.a / tot.raw).toFixed(3)} | ${tot.as.toFixed(3)} | ${(tot.b / tot.raw).toFixed(3)} | ${tot.bs.toFixed(3)} | |`, '');
  return L.join('\n');
}

if (isMainModule(import.meta.url)) {
  const home = sweepArg('--home');
  if (!home) throw new Error('usage: shuffle-sweep --home DIR [--level fast|default|max] [--out DIR] [--label NAME]');
  const r = runShuffleSweep(path.resolve(home), (sweepArg('--level') ?? 'default') as BlobCodecSpec['compression']);
  writeSweep(r, shuffleSweepMarkdown(r), 'shuffle-sweep');
}
