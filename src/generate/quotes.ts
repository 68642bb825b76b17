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

/** The SYMBOL columns' dictionaries of a partition: a block's codes index into these. */
export const partitionDicts = (symbols: string[]): Record<string, string[]> => ({ symbol: symbols, side: ['B', 'S'], source: ['tp'] });

/** Rows per block of blockRows(): ~7 MB of columns. */
export const BLOCK_ROWS = 1 << 18;

/**
 * One partition's rows (every symbol of the bucket on one date, sorted by (symbol, time)) in blocks
 * of at most `blockRows`, so memory stays at one block whatever the partition's size. The arrays
 * are reused: each block is valid until the next one is asked for. Each symbol
 * has its own random stream, carried across blocks, so the rows do not depend on the block size.
 */
export function* partitionBlocks(seed: number, day: number, symbols: string[], rowsPerSymbol: number, blockRows = BLOCK_ROWS): Generator<{ cols: Columns; rows: number }> {
  const total = symbols.length * rowsPerSymbol;
  const step = Math.max(1, Math.floor(SESSION_MS / rowsPerSymbol));
  const base = day * 86_400_000 + OPEN_MS;
  const dicts = partitionDicts(symbols);
  let si = 0, k = 0, rand = () => 0, p = 0;
  // One set of arrays, refilled for every block: a block must be used before the next is asked for.
  const cap = Math.min(blockRows, total);
  const arrays = { time: new Float64Array(cap), sym: new Uint32Array(cap), price: new Float32Array(cap), volume: new Float32Array(cap), side: new Uint32Array(cap), source: new Uint32Array(cap) };
  for (let start = 0; start < total; start += blockRows) {
    const rows = Math.min(blockRows, total - start);
    const [time, sym, price, volume, side, source] = [arrays.time, arrays.sym, arrays.price, arrays.volume, arrays.side, arrays.source].map((a) => (rows === cap ? a : a.subarray(0, rows))) as [Float64Array, Uint32Array, Float32Array, Float32Array, Uint32Array, Uint32Array];
    for (let r = 0; r < rows; r++, k++) {
      if (k === rowsPerSymbol) (k = 0), si++;
      if (k === 0) {
        rand = rng(Math.imul(seed ^ 0x9e3779b9, 31) ^ Math.imul(day, 0x85ebca6b) ^ hashString(symbols[si]!));
        p = 10 + rand() * 90;
      }
      time[r] = base + k * step;
      sym[r] = si;
      p = Math.max(0.01, p + (rand() - 0.5) * 0.02);
      price[r] = p;
      volume[r] = Math.floor(rand() * 1000) * 100;
      side[r] = rand() < 0.5 ? 0 : 1;
    }
    yield {
      rows,
      cols: {
        time: { kind: 'num', type: 'TIMESTAMP', values: time },
        symbol: { kind: 'sym', dict: dicts.symbol!, codes: sym },
        price: { kind: 'num', type: 'FLOAT', values: price },
        volume: { kind: 'num', type: 'FLOAT', values: volume },
        side: { kind: 'sym', dict: dicts.side!, codes: side },
        source: { kind: 'sym', dict: dicts.source!, codes: source },
      },
    };
  }
}

/** Generates one partition's rows in one piece (the micro benchmark's input). */
export function generatePartition(seed: number, day: number, symbols: string[], rowsPerSymbol: number): { cols: Columns; rows: number } {
  const [whole] = partitionBlocks(seed, day, symbols, rowsPerSymbol, Math.max(1, symbols.length * rowsPerSymbol));
  if (whole) return whole;
  const d = partitionDicts(symbols);
  const none = new Uint32Array(0);
  const cols: Columns = {
    time: { kind: 'num', type: 'TIMESTAMP', values: new Float64Array(0) },
    symbol: { kind: 'sym', dict: d.symbol!, codes: none },
    price: { kind: 'num', type: 'FLOAT', values: new Float32Array(0) },
    volume: { kind: 'num', type: 'FLOAT', values: new Float32Array(0) },
    side: { kind: 'sym', dict: d.side!, codes: none },
    source: { kind: 'sym', dict: d.source!, codes: none },
  };
  return { rows: 0, cols };
}
