import path from 'node:path';
import { Cluster, loadChunks, loadDatabase, tableOf } from './catalog.js';
import { encodeNumeric, encodeStrings } from './codec.js';
import { xxh3Of } from './framed-file.js';
import { readVersionDir } from './reader.js';
import type { ColType, Vector } from './types.js';

export interface PartitionDigest {
  path: string;
  rows: number;
  columns: Record<string, string>;
}
export interface TableDigest {
  table: string;
  rows: number;
  digest: string;
  partitions: PartitionDigest[];
}

const hex = (h: bigint) => h.toString(16).padStart(16, '0');

/**
 * A column's checksum over its logical values in row order. SYMBOL codes are renumbered by first
 * appearance first, so two files that encode the same values with different dictionaries agree.
 */
export function columnChecksum(type: ColType, v: Vector): string {
  if (v.kind === 'num') return hex(xxh3Of([encodeNumeric(type, v.values)]));
  if (v.kind === 'str') return hex(xxh3Of(encodeStrings(v.values)));
  const canon = new Int32Array(v.dict.length).fill(-1);
  const order: string[] = [];
  const codes = new Uint32Array(v.codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = v.codes[i]!;
    if (canon[c] === -1) canon[c] = order.push(v.dict[c]!) - 1;
    codes[i] = canon[c]!;
  }
  return hex(xxh3Of([...encodeStrings(order), new Uint8Array(codes.buffer)]));
}

/**
 * Digest of a table's contents: equal exactly when the schema, partition paths, rows and values are
 * equal, whatever the database name, node, volume or cid.
 */
export function tableDigest(c: Cluster, dbPath: string, table: string): TableDigest {
  const def = loadDatabase(c, dbPath);
  const t = tableOf(def, table);
  const partitions: PartitionDigest[] = [];
  for (const k of loadChunks(c, dbPath)) {
    const v = k.tables[table];
    if (!v) continue;
    const cols = readVersionDir(path.join(c.chunkDir(k, dbPath), v.version), def, t);
    partitions.push({ path: k.path, rows: v.rows, columns: Object.fromEntries(t.schema.map((s) => [s.name, columnChecksum(s.type, cols[s.name]!)])) });
  }
  const canonical = JSON.stringify({ schema: t.schema.map((s) => [s.name, s.type]), partitions });
  return { table, rows: partitions.reduce((a, p) => a + p.rows, 0), digest: hex(xxh3Of([Buffer.from(canonical)])), partitions };
}

export function databaseDigest(c: Cluster, dbPath: string, table?: string): TableDigest[] {
  const def = loadDatabase(c, dbPath);
  const names = table ? [tableOf(def, table).name] : Object.keys(def.tables).sort();
  return names.map((n) => tableDigest(c, dbPath, n));
}
