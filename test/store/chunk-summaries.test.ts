import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, append, beginBatch, dropPartition, loadChunks, loadSummaries, pinSummaries, warmChunks } from '../../dist/store/index.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';
import { FOLD_LOG_BYTES } from '../../dist/store/chunk-summaries.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

const SYMS = ['IBM', 'MSFT', 'AAPL', 'GOOG', 'ORCL'];
const DAYS = [D20120101, D20120101 + 1];

function setup() {
  home = tmpDir('chunk-index');
  const { c, db } = makeTradesDb(path.join(home, 'h'));
  return { c, db, index: path.join(c.dbDir(db), 'chunks.index'), log: path.join(c.dbDir(db), 'chunks.changed') };
}

/** The catalog as the chunk files hold it, less the file lists, by path. */
function fromChunkFiles(c: Cluster, db: string) {
  return loadChunks(c, db).map(({ tables, ...k }) => ({ ...k, tables: Object.fromEntries(Object.entries(tables).map(([t, { files: _files, ...v }]) => [t, v])) }));
}
const summaries = (c: Cluster, db: string) => [...loadSummaries(c, db)].sort((a, b) => (a.path < b.path ? -1 : 1)).map((k) => ({ ...k, tables: { ...k.tables } }));

const pinAndRelease = (c: Cluster, db: string) => pinSummaries(c, db, () => false).release();
/** A fresh index and no log: a pin that finds no index writes one. */
function fold(c: Cluster, db: string): void {
  fs.rmSync(path.join(c.dbDir(db), 'chunks.index'));
  fs.rmSync(path.join(c.dbDir(db), 'chunks.changed'), { force: true });
  pinAndRelease(c, db);
}

describe('the catalog index and its change log', () => {
  it('give the chunk files less their file lists after appends, a load, a drop and pins', () => {
    const { c, db } = setup();
    append(c, db, 'trades', tradeRows(40, SYMS, DAYS));
    expect(summaries(c, db)).toEqual(fromChunkFiles(c, db));
    pinAndRelease(c, db);
    append(c, db, 'trades', tradeRows(10, ['IBM'], [D20120101], 1));
    const b = beginBatch(c, db, 'trades');
    b.add(tradeRows(30, SYMS, [D20120101 + 2], 2));
    b.commit();
    dropPartition(c, db, fromChunkFiles(c, db)[0]!.path);
    expect(summaries(c, db)).toEqual(fromChunkFiles(c, db));
    pinAndRelease(c, db);
    expect(summaries(c, db)).toEqual(fromChunkFiles(c, db));
  });

  it('a log line naming a chunk whose file did not change yet (a writer killed before its rename) leaves that chunk as its file holds it', () => {
    const { c, db, log } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const before = fromChunkFiles(c, db);
    const marker = fs.readFileSync(path.join(c.dbDir(db), 'next-cid'), 'utf8');
    fs.appendFileSync(log, JSON.stringify([marker, before[0]!.chunkId]) + '\n');
    expect(summaries(c, db)).toEqual(before);
  });

  it('a home without an index is read from its chunk files, and its first pin writes the index', () => {
    const { c, db, index, log } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fs.rmSync(index);
    fs.rmSync(log, { force: true });
    expect(summaries(c, db)).toEqual(fromChunkFiles(c, db));
    pinAndRelease(c, db);
    expect(fs.existsSync(index)).toBe(true);
    expect(fs.existsSync(log)).toBe(false);
    expect(summaries(c, db)).toEqual(fromChunkFiles(c, db));
  });

  it('a chunk file changed without a log line but with a new change marker (an older writer) is read from the chunk files', () => {
    const { c, db } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const k = loadChunks(c, db)[0]!;
    const file = path.join(c.dbDir(db), 'chunks', `${k.chunkId}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...k, tables: { trades: { ...k.tables.trades!, rows: 999 } } }));
    const cidFile = path.join(c.dbDir(db), 'next-cid');
    fs.writeFileSync(cidFile, String(Number(fs.readFileSync(cidFile, 'utf8')) + 1));
    expect(summaries(c, db).find((s) => s.chunkId === k.chunkId)!.tables.trades!.rows).toBe(999);
  });

  it('a damaged change log is not believed: the chunk files are read', () => {
    const { c, db, log } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const k = loadChunks(c, db)[0]!;
    fs.writeFileSync(path.join(c.dbDir(db), 'chunks', `${k.chunkId}.json`), JSON.stringify({ ...k, tables: { trades: { ...k.tables.trades!, rows: 999 } } }));
    fs.writeFileSync(log, '["1", "x"\n');
    expect(summaries(c, db).find((s) => s.chunkId === k.chunkId)!.tables.trades!.rows).toBe(999);
  });

  it('a change log grown past FOLD_LOG_BYTES without a pin is folded into a new index by the next commit', () => {
    const { c, db, index, log } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const marker = fs.readFileSync(path.join(c.dbDir(db), 'next-cid'), 'utf8');
    const line = JSON.stringify([marker, ...loadChunks(c, db).map((k) => k.chunkId)]) + '\n';
    fs.writeFileSync(log, line.repeat(Math.ceil((FOLD_LOG_BYTES + 1) / line.length)));
    const indexBefore = fs.statSync(index).mtimeMs;
    append(c, db, 'trades', tradeRows(5, ['IBM'], [D20120101], 3));
    expect(fs.statSync(log).size).toBeLessThan(4096);
    expect(fs.statSync(index).mtimeMs).not.toBe(indexBefore);
    expect(summaries(c, db)).toEqual(fromChunkFiles(c, db));
  });

  it('a short change log is left for the next pin: a commit does not rewrite the index', () => {
    const { c, db, index, log } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const indexBefore = fs.readFileSync(index);
    append(c, db, 'trades', tradeRows(5, ['IBM'], [D20120101], 3));
    expect(fs.readFileSync(index)).toEqual(indexBefore);
    expect(fs.statSync(log).size).toBeGreaterThan(0);
  });
});

describe('a pin after warmChunks', () => {
  /** The warm read done, then `meanwhile`, then a pin with every chunk's file lists: each chunk as the pin got it. */
  async function pinnedAfterWarm(c: Cluster, db: string, meanwhile: () => void) {
    const warm = warmChunks(c, db);
    await warm.done;
    meanwhile();
    const snap = pinSummaries(c, db, () => true);
    try {
      return new Map(snap.chunks.map((k) => [k.chunkId, snap.full(k)]));
    } finally {
      snap.release();
    }
  }
  const chunkFile = (c: Cluster, db: string, id: string) => path.join(c.dbDir(db), 'chunks', `${id}.json`);
  /** A database whose chunks the index holds, and its first chunk's file as written. */
  function foldedChunk() {
    const { c, db } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const first = loadChunks(c, db)[0]!;
    const file = chunkFile(c, db, first.chunkId);
    return { c, db, first, file, asRead: fs.readFileSync(file, 'utf8') };
  }

  it('takes the chunk files the warm read parsed when the change log does not name them', async () => {
    const { c, db, first, file, asRead } = foldedChunk();
    // A change no writer makes (none logged): only a pin that took the warm read misses it.
    const pinned = await pinnedAfterWarm(c, db, () => fs.writeFileSync(file, asRead.replace('"trades"', '"trades2"')));
    expect(Object.keys(pinned.get(first.chunkId)!.tables)).toEqual(['trades']);
  });

  it('takes a chunk file of 64 KiB or more whole from the warm read', async () => {
    const { c, db, first, file, asRead } = foldedChunk();
    // Whitespace before the closing brace: the same chunk, in a file past one 64 KiB read.
    const padded = `${asRead.trimEnd().slice(0, -1)}${' '.repeat(200 * 1024)}}`;
    fs.writeFileSync(file, padded);
    const pinned = await pinnedAfterWarm(c, db, () => fs.writeFileSync(file, asRead.replace('"trades"', '"trades2"')));
    expect(Object.keys(pinned.get(first.chunkId)!.tables)).toEqual(['trades']);
    expect(pinned.get(first.chunkId)).toEqual(JSON.parse(padded));
  });

  it('reads again under the lock a chunk committed to after the warm read', async () => {
    const { c, db } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const pinned = await pinnedAfterWarm(c, db, () => append(c, db, 'trades', tradeRows(5, ['IBM'], [D20120101], 3)));
    for (const k of loadChunks(c, db)) expect(pinned.get(k.chunkId)).toEqual(k);
  });

  it('reads every chunk again when a new index replaced the one the warm read went by', async () => {
    const { c, db } = setup();
    append(c, db, 'trades', tradeRows(20, SYMS, DAYS));
    fold(c, db);
    const pinned = await pinnedAfterWarm(c, db, () => {
      append(c, db, 'trades', tradeRows(5, ['IBM'], [D20120101], 3));
      // Another process's pin folds the log into a new index: the commit above is no longer logged.
      fold(new Cluster(c.home), db);
      expect(fs.existsSync(path.join(c.dbDir(db), 'chunks.changed'))).toBe(false);
    });
    for (const k of loadChunks(c, db)) expect(pinned.get(k.chunkId)).toEqual(k);
  });
});
