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

const OPEN_MS = (9 * 60 + 30) * 60_000;
const SESSION_MS = 5.5 * 3_600_000;

/** The SYMBOL columns' dictionaries of a partition: a block's codes index into these. */
export const partitionDicts = (symbols: string[]): Record<string, string[]> => ({ symbol: symbols, side: ['B', 'S'], source: ['tp'] });

/** Rows per block of partitionBlocks(): ~7 MB of columns. */
export const BLOCK_ROWS = 1 << 18;

/** The arrays partitionBlocks fills (`source` is all zeros: the only source is `tp`). */
export interface BlockArrays {
  time: Float64Array;
  sym: Uint32Array;
  price: Float32Array;
  volume: Float32Array;
  side: Uint32Array;
  source: Uint32Array;
}

export const blockArrays = (rows: number): BlockArrays => ({
  time: new Float64Array(rows),
  sym: new Uint32Array(rows),
  price: new Float32Array(rows),
  volume: new Float32Array(rows),
  side: new Uint32Array(rows),
  source: new Uint32Array(rows),
});

/**
 * Where a partition's generation stands between blocks: symbol `si` at its row `k`, with its
 * random stream's state `a` (mulberry32) and its current price `p`.
 */
interface Walk {
  si: number;
  k: number;
  a: number;
  p: number;
}

/** mulberry32 (tiny, fast and deterministic, which is all test data needs): its state advances by this before each draw. */
const MULBERRY_STEP = 0x6d2b79f5;
/** mulberry32's output for state `a`, a uint32 (the draw in [0, 1) is this / 2^32). */
function mulberry(a: number): number {
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
const TO_UNIT = 1 / 4294967296;

/**
 * Fills rows [from, to) of one symbol's run: the per-row cost of `generate`. Each row takes three
 * draws of the symbol's stream: the price's step, the volume, the side. A plain loop over locals
 * with the stream inline: 12 CPU ns a row, against 38 for the loop inside the generator calling a
 * closure per draw (8M rows, one thread). The values are the same to the bit: `draw * 2^-32`
 * is exact, and `side` is the draw's top bit, which is exactly `draw / 2^32 < 0.5`.
 */
function fillRun(w: Walk, x: BlockArrays, from: number, to: number, base: number, step: number): void {
  const { time, sym, price, volume, side } = x;
  let a = w.a, p = w.p;
  const t0 = base + w.k * step;
  sym.fill(w.si, from, to);
  for (let r = from, i = 0; r < to; r++, i++) {
    time[r] = t0 + i * step;
    a = (a + MULBERRY_STEP) | 0;
    const q = p + (mulberry(a) * TO_UNIT - 0.5) * 0.02;
    p = q > 0.01 ? q : 0.01;
    price[r] = p;
    a = (a + MULBERRY_STEP) | 0;
    volume[r] = Math.floor(mulberry(a) * TO_UNIT * 1000) * 100;
    a = (a + MULBERRY_STEP) | 0;
    side[r] = mulberry(a) >>> 31;
  }
  w.a = a;
  w.p = p;
  w.k += to - from;
}

/**
 * One partition's rows (every symbol of the bucket on one date, sorted by (symbol, time)) in blocks
 * of at most `blockRows`, so memory stays at one block whatever the partition's size. The arrays
 * are reused: each block is valid until the next one is asked for. Each symbol
 * has its own random stream, carried across blocks, so the rows do not depend on the block size.
 * `arrays` (at least `blockRows` long, or the partition's rows if fewer): a caller's own, reused
 * from one partition to the next, so that a worker's many partitions do not leave ~7 MB of
 * garbage each for the GC.
 */
export function* partitionBlocks(seed: number, day: number, symbols: string[], rowsPerSymbol: number, blockRows = BLOCK_ROWS, arrays?: BlockArrays): Generator<{ cols: Columns; rows: number }> {
  const total = symbols.length * rowsPerSymbol;
  const step = Math.max(1, Math.floor(SESSION_MS / rowsPerSymbol));
  const base = day * 86_400_000 + OPEN_MS;
  const dicts = partitionDicts(symbols);
  const streamSeed = (si: number) => (Math.imul(seed ^ 0x9e3779b9, 31) ^ Math.imul(day, 0x85ebca6b) ^ hashString(symbols[si]!)) | 0;
  // A symbol's stream starts with the draw of its opening price.
  const open = (si: number): Walk => {
    const a = (streamSeed(si) + MULBERRY_STEP) | 0;
    return { si, k: 0, a, p: 10 + mulberry(a) * TO_UNIT * 90 };
  };
  let w: Walk = { si: -1, k: rowsPerSymbol, a: 0, p: 0 }; // before the first symbol
  // One set of arrays, refilled for every block: a block must be used before the next is asked for.
  const full = arrays ?? blockArrays(Math.min(blockRows, total));
  const cap = full.time.length;
  if (cap < Math.min(blockRows, total)) throw new Error(`internal: block arrays of ${cap} rows for blocks of ${blockRows}`);
  for (let start = 0; start < total; start += blockRows) {
    const rows = Math.min(blockRows, total - start);
    for (let r = 0; r < rows; ) {
      if (w.k === rowsPerSymbol) w = open(w.si + 1);
      const n = Math.min(rows - r, rowsPerSymbol - w.k);
      fillRun(w, full, r, r + n, base, step);
      r += n;
    }
    const cut = <T extends Float64Array | Float32Array | Uint32Array>(a: T): T => (rows === cap ? a : (a.subarray(0, rows) as T));
    yield {
      rows,
      cols: {
        time: { kind: 'num', type: 'TIMESTAMP', values: cut(full.time) },
        symbol: { kind: 'sym', dict: dicts.symbol!, codes: cut(full.sym) },
        price: { kind: 'num', type: 'FLOAT', values: cut(full.price) },
        volume: { kind: 'num', type: 'FLOAT', values: cut(full.volume) },
        side: { kind: 'sym', dict: dicts.side!, codes: cut(full.side) },
        source: { kind: 'sym', dict: dicts.source!, codes: cut(full.source) },
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
