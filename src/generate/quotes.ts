import type { Engine, Scheme, TableSpec } from '../store/index.js';
import { dateToDays, hashString, type ColumnDef, type Columns } from '../store/index.js';

/** The DolphinDB tutorial's data set (buildData.txt): one schema, three tables, two databases. */
export const QUOTES_SCHEMA: ColumnDef[] = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'symbol', type: 'SYMBOL' },
  { name: 'price', type: 'FLOAT' },
  { name: 'volume', type: 'FLOAT' },
  { name: 'side', type: 'SYMBOL' },
  { name: 'source', type: 'SYMBOL' },
];
export const HASH_BUCKETS = 5;
export const FIRST_DATE = dateToDays(2012, 1, 1);
/** Bytes per row on disk across the six columns (symbol codes are 1 byte while a bucket has <= 255 symbols). */
export const BYTES_PER_ROW = 8 + 1 + 4 + 4 + 1 + 1;

export interface QuotesDb {
  dbPath: string;
  engine: Engine;
  tables: TableSpec[];
}

export function quotesScheme(dates: number): Scheme {
  return {
    type: 'COMPO',
    levels: [
      { type: 'HASH', colType: 'SYMBOL', buckets: HASH_BUCKETS },
      { type: 'VALUE', colType: 'SYMBOL', values: ['tp'] },
      { type: 'VALUE', colType: 'DATE', values: Array.from({ length: dates }, (_, i) => FIRST_DATE + i) },
    ],
  };
}

const table = (name: string, sort?: string[]): TableSpec => ({ name, schema: QUOTES_SCHEMA, partitionColumns: ['symbol', 'source', 'time'], ...(sort ? { sortColumns: sort } : {}) });

export const QUOTES_DBS: QuotesDb[] = [
  { dbPath: 'dfs://testdb', engine: 'OLAP', tables: [table('quotes'), table('quotes_2')] },
  { dbPath: 'dfs://testdb_tsdb', engine: 'TSDB', tables: [table('quotes_tsdb', ['symbol', 'time'])] },
];

export const symbolName = (i: number) => `S${String(i).padStart(5, '0')}`;

/** Symbols grouped by HASH bucket, each group sorted, so rows come out sorted by (symbol, time). */
export function symbolsByBucket(symbols: number): string[][] {
  const out: string[][] = Array.from({ length: HASH_BUCKETS }, () => []);
  for (let i = 0; i < symbols; i++) out[hashString(symbolName(i)) % HASH_BUCKETS]!.push(symbolName(i));
  return out.map((g) => g.sort());
}

/** mulberry32: tiny, fast and deterministic, which is all test data needs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPEN_MS = (9 * 60 + 30) * 60_000;
const SESSION_MS = 5.5 * 3_600_000;

/** Generates one partition's rows: every symbol of the bucket on one date, sorted by (symbol, time). */
export function generatePartition(seed: number, day: number, symbols: string[], rowsPerSymbol: number): { cols: Columns; rows: number } {
  const rows = symbols.length * rowsPerSymbol;
  const time = new Float64Array(rows);
  const sym = new Uint32Array(rows);
  const price = new Float32Array(rows);
  const volume = new Float32Array(rows);
  const side = new Uint32Array(rows);
  const source = new Uint32Array(rows);
  const step = Math.max(1, Math.floor(SESSION_MS / rowsPerSymbol));
  const base = day * 86_400_000 + OPEN_MS;
  let r = 0;
  symbols.forEach((s, si) => {
    const rand = rng(Math.imul(seed ^ 0x9e3779b9, 31) ^ Math.imul(day, 0x85ebca6b) ^ hashString(s));
    let p = 10 + rand() * 90;
    for (let k = 0; k < rowsPerSymbol; k++, r++) {
      time[r] = base + k * step;
      sym[r] = si;
      p = Math.max(0.01, p + (rand() - 0.5) * 0.02);
      price[r] = p;
      volume[r] = Math.floor(rand() * 1000) * 100;
      side[r] = rand() < 0.5 ? 0 : 1;
    }
  });
  return {
    rows,
    cols: {
      time: { kind: 'num', type: 'TIMESTAMP', values: time },
      symbol: { kind: 'sym', dict: symbols, codes: sym },
      price: { kind: 'num', type: 'FLOAT', values: price },
      volume: { kind: 'num', type: 'FLOAT', values: volume },
      side: { kind: 'sym', dict: ['B', 'S'], codes: side },
      source: { kind: 'sym', dict: ['tp'], codes: source },
    },
  };
}
