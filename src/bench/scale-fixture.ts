import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/durable.js';
import { stopwatch } from '../common/units.js';
import { FIRST_DATE, QUOTES_DBS, quotesScheme, symbolsByBucket } from '../generate/quotes.js';
import { Cluster, createDatabase, createPartitionedTable, ensureChunks, initCluster, isCluster, valueDirName, writeTableFiles, type ChunkMeta, type Columns, type FileEntry } from '../store/index.js';
import { saveChunk } from '../store/catalog.js';

/**
 * The metadata-at-scale fixture: the tutorial's three tables (two databases) with `partitions`
 * partitions each and one row per (partition, table), so the catalog and the repository are as
 * large as a big cluster's while the data is ~350 bytes per (partition, table): 14 files per
 * partition (6 per OLAP table, 2 per TSDB table), 1.4 million at 100,000 partitions.
 *
 * It is a fixture, not a writer: each table's files are written once by the store's format code
 * (writeTableFiles) and hard-linked into every partition's version directory, and the catalog is
 * written as the commits would have left it (one version per (partition, table), cids 1..n, one
 * chunk file per partition), without a commit's per-version lock, cid file write and fsyncs. The
 * store's own multi-partition commit took 160 s for 10,000 partitions here, so a million files
 * through it is out of reach of a test (noted in docs/PERFORMANCE.md).
 */
export interface ScaleFixture {
  home: string;
  partitions: number;
  dates: number;
  files: number;
  seconds: number;
}

const BUCKETS = 5;

/** One row of the quotes schema (symbol of HASH bucket 0, 2012-01-01 09:30). */
function oneRow(): Columns {
  return {
    time: { kind: 'num', type: 'TIMESTAMP', values: Float64Array.of(FIRST_DATE * 86_400_000 + 34_200_000) },
    symbol: { kind: 'sym', dict: [symbolsByBucket(50)[0]![0]!], codes: Uint32Array.of(0) },
    price: { kind: 'num', type: 'FLOAT', values: Float32Array.of(10.5) },
    volume: { kind: 'num', type: 'FLOAT', values: Float32Array.of(100) },
    side: { kind: 'sym', dict: ['B'], codes: Uint32Array.of(0) },
    source: { kind: 'sym', dict: ['tp'], codes: Uint32Array.of(0) },
  };
}

const partPath = (d: number, b: number) => `/Key${b}/tp/${valueDirName('DATE', FIRST_DATE + d)}`;

/** Builds the fixture in an empty (or new) home; `partitions` is rounded up to a multiple of 5 (the HASH buckets). */
export function buildScaleHome(home: string, partitions: number): ScaleFixture {
  const elapsed = stopwatch();
  const dates = Math.max(1, Math.ceil(partitions / BUCKETS));
  if (!isCluster(home)) initCluster(home);
  const c = new Cluster(home);
  const paths = Array.from({ length: dates * BUCKETS }, (_, i) => ({ path: partPath(Math.floor(i / BUCKETS), i % BUCKETS) }));
  const now = new Date().toISOString();
  let files = 0;
  for (const db of QUOTES_DBS) {
    createDatabase(c, db.dbPath, db.engine, quotesScheme(dates));
    const defs = db.tables.map((t) => createPartitionedTable(c, db.dbPath, t));
    const chunks = ensureChunks(c, db.dbPath, paths);
    // The files of one row, written once per table by the store's format code.
    const proto = path.join(home, `.fixture-${db.dbPath.slice(6)}`);
    const protoFiles = defs.map((t) => {
      fs.mkdirSync(path.join(proto, t.name), { recursive: true });
      return writeTableFiles(path.join(proto, t.name), db.engine, t, oneRow(), 1).files;
    });
    let cid = 1;
    for (const k of chunks.values()) {
      const dir = c.chunkDir(k, db.dbPath);
      defs.forEach((t, i) => {
        const version = `${t.name}_${t.physIndex}_${cid}`;
        fs.mkdirSync(path.join(dir, version), { recursive: true });
        const list: FileEntry[] = protoFiles[i]!;
        for (const f of list) fs.linkSync(path.join(proto, t.name, f.name), path.join(dir, version, f.name));
        files += list.length;
        (k as ChunkMeta).tables[t.name] = { cid: cid++, version, rows: 1, bytes: list.reduce((a, f) => a + f.size, 0), files: list, updateTime: now };
      });
      saveChunk(c, db.dbPath, k);
    }
    writeFileAtomic(path.join(c.dbDir(db.dbPath), 'next-cid'), String(cid));
    fs.rmSync(proto, { recursive: true, force: true });
  }
  return { home, partitions: dates * BUCKETS, dates, files, seconds: elapsed() };
}
