import { Cluster, createDatabase, createPartitionedTable, initCluster, type ColumnDef, type Engine, type Scheme } from '../../dist/store/index.js';

/** The schema the tests use: small and covering the partition types of the seed scenario. */
export const TRADES: ColumnDef[] = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'symbol', type: 'SYMBOL' },
  { name: 'price', type: 'DOUBLE' },
  { name: 'qty', type: 'INT' },
];

export const DAY_MS = 86_400_000;
/** 2012.01.01 as days since 1970-01-01 and as a TIMESTAMP at 09:30. */
export const D20120101 = 15340;
export const ts = (day: number, minute = 0) => day * DAY_MS + (9 * 60 + 30 + minute) * 60_000;

/** HASH(symbol, 4) x VALUE(DATE), like the tutorial's scheme without the source level. */
export const tradesScheme = (): Scheme => ({
  type: 'COMPO',
  levels: [
    { type: 'HASH', colType: 'SYMBOL', buckets: 4 },
    { type: 'VALUE', colType: 'DATE', values: [D20120101] },
  ],
});

/** A cluster home with one database `dfs://<name>` holding table `trades` (sorted by symbol,time on TSDB). */
export function makeTradesDb(home: string, engine: Engine = 'OLAP', name = 'db', init: Parameters<typeof initCluster>[1] = {}): { c: Cluster; db: string } {
  initCluster(home, init);
  const c = new Cluster(home);
  const db = `dfs://${name}`;
  createDatabase(c, db, engine, tradesScheme());
  createPartitionedTable(c, db, {
    name: 'trades',
    schema: TRADES,
    partitionColumns: ['symbol', 'time'],
    ...(engine === 'TSDB' ? { sortColumns: ['symbol', 'time'] } : {}),
  });
  return { c, db };
}

/** n rows spread over the given symbols and days; values depend only on (i, salt). */
export function tradeRows(n: number, symbols: string[], days: number[], salt = 0): Record<string, unknown[]> {
  const rows: Record<string, unknown[]> = { time: [], symbol: [], price: [], qty: [] };
  for (let i = 0; i < n; i++) {
    rows.time!.push(ts(days[i % days.length]!, i));
    rows.symbol!.push(symbols[i % symbols.length]!);
    rows.price!.push(10 + ((i * 7 + salt) % 100) / 4);
    rows.qty!.push(i + salt);
  }
  return rows;
}
