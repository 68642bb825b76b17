import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  append,
  createPartitionedTable,
  dropPartition,
  dropTable,
  hashString,
  loadChunks,
  loadDatabase,
  pinDatabase,
  readPartition,
  readVersionDir,
  valueAt,
  type ChunkMeta,
} from '../../dist/store/index.js';
import { deadPid, runStoreScript } from '../helpers/child.js';
import { D20120101, TRADES, makeTradesDb, tradeRows } from '../helpers/store.js';
import { listFiles, rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

/** One symbol, one day: every append goes to the same single partition. */
const ROWS = (n: number, salt = 0) => tradeRows(n, ['IBM'], [D20120101], salt);

function setup(engine: 'OLAP' | 'TSDB' = 'OLAP') {
  home = tmpDir('mvcc');
  const h = path.join(home, 'h');
  const { c, db } = makeTradesDb(h, engine);
  append(c, db, 'trades', ROWS(50));
  const chunk = loadChunks(c, db)[0]!;
  const versionDir = (k: ChunkMeta = loadChunks(c, db)[0]!) => path.join(c.chunkDir(k, db), k.tables.trades!.version);
  return { h, c, db, chunk, chunkDir: c.chunkDir(chunk, db), versionDir };
}

function fileState(dir: string) {
  return Object.fromEntries(
    fs.readdirSync(dir).map((f) => {
      const st = fs.statSync(path.join(dir, f));
      return [f, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, sha: createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex') }];
    }),
  );
}

const appendFromChild = (h: string, db: string, n: number, salt: number) =>
  runStoreScript(
    `const c = new store.Cluster(process.argv[1]);
     const n = Number(process.argv[3]), salt = Number(process.argv[4]);
     const day = 15340 * 86400000 + 34200000;
     store.append(c, process.argv[2], 'trades', { time: Array.from({ length: n }, (_, i) => day + i), symbol: Array(n).fill('IBM'), price: Array(n).fill(1.5), qty: Array.from({ length: n }, (_, i) => i + salt) });`,
    [h, db, String(n), String(salt)],
  );

describe('MVCC versions', () => {
  it('each commit writes a new version directory <table>_<physIndex>_<cid> and switches chunk metadata to it', () => {
    const { c, db, chunkDir, versionDir } = setup();
    const v1 = loadChunks(c, db)[0]!.tables.trades!;
    append(c, db, 'trades', ROWS(5, 100));
    const v2 = loadChunks(c, db)[0]!.tables.trades!;
    expect(v1.version).toBe(`trades_0_${v1.cid}`);
    expect(v2.version).toBe(`trades_0_${v2.cid}`);
    expect(v2.cid).toBeGreaterThan(v1.cid);
    expect(v2.rows).toBe(55);
    expect(fs.readdirSync(chunkDir)).toEqual([v2.version]); // nothing pinned: the superseded version is gone
    expect(v2.files.map((f) => f.name).sort()).toEqual(fs.readdirSync(versionDir()).sort());
    expect(v2.bytes).toBe(v2.files.reduce((a, f) => a + fs.statSync(path.join(versionDir(), f.name)).size, 0));
  });

  it('a pinned snapshot keeps its version directory and contents while another process appends and commits', () => {
    const { h, c, db, versionDir } = setup();
    const snap = pinDatabase(c, db);
    try {
      const pinned = path.join(c.chunkDir(snap.chunks[0]!, db), snap.chunks[0]!.tables.trades!.version);
      const def = loadDatabase(c, db);
      const before = readVersionDir(pinned, def, def.tables.trades!);
      appendFromChild(h, db, 30, 1000);
      appendFromChild(h, db, 30, 2000);
      expect(loadChunks(c, db)[0]!.tables.trades!.rows).toBe(110);
      expect(versionDir()).not.toBe(pinned);
      expect(fs.existsSync(pinned)).toBe(true);
      expect(readVersionDir(pinned, def, def.tables.trades!)).toEqual(before);
      expect(snap.chunks[0]!.tables.trades!.rows).toBe(50);
    } finally {
      snap.release();
    }
  });

  it('GC removes a superseded version once its pin is released, and only then', () => {
    const { c, db, chunkDir, versionDir } = setup();
    const old = versionDir();
    const snap = pinDatabase(c, db);
    append(c, db, 'trades', ROWS(5, 100));
    append(c, db, 'trades', ROWS(5, 200)); // the middle version was never pinned: it goes at once
    const cur = versionDir();
    // Each append ran GC on this chunk: the pin is what kept the old version.
    expect(fs.readdirSync(chunkDir).sort()).toEqual([path.basename(old), path.basename(cur)].sort());
    snap.release();
    expect(fs.readdirSync(chunkDir)).toEqual([path.basename(cur)]);
    expect(fs.readdirSync(path.join(c.home, 'pins'))).toEqual([]);
  });

  it('releasing a pin with no commit or drop since the pin does not read the catalog again', () => {
    const { c, db, versionDir } = setup();
    const snap = pinDatabase(c, db);
    // A damaged chunk file would fail any read of the catalog: the release must not need one.
    const chunks = path.join(c.dbDir(db), 'chunks');
    const file = path.join(chunks, fs.readdirSync(chunks).find((f) => f.endsWith('.json'))!);
    const saved = fs.readFileSync(file);
    fs.writeFileSync(file, '{');
    snap.release();
    fs.writeFileSync(file, saved);
    expect(fs.existsSync(versionDir())).toBe(true);
    expect(fs.readdirSync(path.join(c.home, 'pins'))).toEqual([]);
  });

  it('releasing one of two pins on the same version keeps the version for the other', () => {
    const { c, db, versionDir } = setup();
    const old = versionDir();
    const a = pinDatabase(c, db);
    const b = pinDatabase(c, db);
    append(c, db, 'trades', ROWS(5, 100));
    a.release();
    expect(fs.existsSync(old)).toBe(true);
    b.release();
    expect(fs.existsSync(old)).toBe(false);
  });

  it('releasing a pin after the table was dropped keeps the chunk directory, so the table can be re-created and appended to', () => {
    const { c, db, chunkDir, versionDir } = setup();
    const old = versionDir();
    const snap = pinDatabase(c, db);
    dropTable(c, db, 'trades');
    expect(fs.existsSync(old)).toBe(true);
    snap.release();
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(chunkDir)).toBe(true);
    createPartitionedTable(c, db, { name: 'trades', schema: TRADES, partitionColumns: ['symbol', 'time'] });
    append(c, db, 'trades', ROWS(5, 100));
    expect(readPartition(c, db, 'trades', loadChunks(c, db)[0]!.path).rows).toBe(5);
  });

  it('releasing a pin after the partition was dropped removes the chunk directory', () => {
    const { c, db, chunk, chunkDir } = setup();
    const snap = pinDatabase(c, db);
    dropPartition(c, db, chunk.path);
    expect(fs.existsSync(chunkDir)).toBe(true);
    snap.release();
    expect(fs.existsSync(chunkDir)).toBe(false);
    expect(loadChunks(c, db)).toEqual([]);
  });

  it('a pin left by a dead process holds nothing: the next commit removes its versions and its pin file', () => {
    const { c, db, versionDir } = setup();
    const old = versionDir();
    const pinFile = path.join(c.home, 'pins', 'dead.json');
    fs.writeFileSync(pinFile, JSON.stringify({ pid: deadPid(), host: os.hostname(), db, dirs: [old] }));
    append(c, db, 'trades', ROWS(5, 100));
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(pinFile)).toBe(false);
  });

  it('GC removes the staging directory of a dead writer and keeps a live writer\'s', () => {
    const { c, db, chunkDir } = setup();
    const dead = path.join(chunkDir, `.trades_0_tid_${deadPid()}_abcd1234`);
    const live = path.join(chunkDir, `.trades_0_tid_${process.pid}_abcd1234`);
    for (const d of [dead, live]) {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'price.col'), 'half written');
    }
    append(c, db, 'trades', ROWS(5, 100));
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });

  it('a version directory renamed into place but never committed to metadata is invisible and collected', () => {
    const { c, db, chunkDir, chunk } = setup();
    // What a crash between the rename and the metadata switch leaves behind.
    const orphan = path.join(chunkDir, 'trades_0_999');
    fs.mkdirSync(orphan);
    fs.writeFileSync(path.join(orphan, 'qty.col'), 'x');
    expect(readPartition(c, db, 'trades', chunk.path).rows).toBe(50);
    append(c, db, 'trades', ROWS(5, 100)); // the next commit on the chunk runs its GC
    expect(fs.existsSync(orphan)).toBe(false);
  });
});

describe('files are never modified once named', () => {
  it('OLAP: an append leaves every file of the pinned old version byte-identical with the same inode and mtime', () => {
    const { c, db, versionDir } = setup('OLAP');
    const old = versionDir();
    const snap = pinDatabase(c, db);
    try {
      const before = fileState(old);
      append(c, db, 'trades', ROWS(20, 100));
      expect(fileState(old)).toEqual(before);
      // and the new version's files are new files, not the old ones rewritten
      const now = fileState(versionDir());
      for (const [f, st] of Object.entries(now)) expect(st.ino).not.toBe(before[f]!.ino);
    } finally {
      snap.release();
    }
  });

  it('TSDB: an append hard-links the old level files into the new version (same inode) and writes a new level file and dictionary', () => {
    const { c, db, versionDir } = setup('TSDB');
    const old = versionDir();
    const snap = pinDatabase(c, db);
    try {
      const before = fileState(old);
      expect(Object.keys(before).sort()).toEqual(['0_00000001', 'chunk.dict']);
      // A new symbol in the same bucket grows the chunk's dictionary.
      let sym = 'N0';
      for (let i = 1; hashString(sym) % 4 !== hashString('IBM') % 4; i++) sym = `N${i}`;
      append(c, db, 'trades', tradeRows(20, [sym], [D20120101], 100));
      expect(fileState(old)).toEqual(before);
      const now = fileState(versionDir());
      expect(Object.keys(now).sort()).toEqual(['0_00000001', '0_00000002', 'chunk.dict']);
      expect(now['0_00000001']!.ino).toBe(before['0_00000001']!.ino);
      expect(fs.statSync(path.join(old, '0_00000001')).nlink).toBe(2);
      expect(now['chunk.dict']!.ino).not.toBe(before['chunk.dict']!.ino);
      const { rows, cols } = readPartition(c, db, 'trades', loadChunks(c, db)[0]!.path);
      expect(rows).toBe(70);
      const syms = Array.from({ length: rows }, (_, i) => valueAt(cols.symbol!, i));
      expect(syms.filter((s) => s === 'IBM')).toHaveLength(50);
      expect(syms.filter((s) => s === sym)).toHaveLength(20);
    } finally {
      snap.release();
    }
  });

  it('TSDB: reading a version with several level files returns rows sorted by the sort columns', () => {
    const { c, db } = setup('TSDB');
    // Earlier times than the first batch: the merged read must interleave the two level files.
    const early = tradeRows(10, ['IBM'], [D20120101], 500);
    early.time = early.time!.map((t) => (t as number) - 3_600_000);
    append(c, db, 'trades', early);
    const { cols, rows } = readPartition(c, db, 'trades', loadChunks(c, db)[0]!.path);
    const times = Array.from(cols.time!.kind === 'num' ? cols.time!.values : [], Number);
    expect(rows).toBe(60);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('the whole home after a pinned append and release holds only current version files (no temp files left)', () => {
    const { h, c, db } = setup('OLAP');
    const snap = pinDatabase(c, db);
    append(c, db, 'trades', ROWS(5, 100));
    snap.release();
    const files = listFiles(h);
    expect(files.filter((f) => /\.tmp-|\.stale-|\.lock$/.test(f))).toEqual([]);
    const k = loadChunks(c, db)[0]!;
    const inVolume = files.filter((f) => f.startsWith('volumes/'));
    expect(inVolume.map((f) => path.basename(path.dirname(f)))).toEqual(Array(inVolume.length).fill(k.tables.trades!.version));
  });
});
