import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { append, commitStages, dropPartition, loadChunks, placeChunks, readPartition, stageVersion, type ChunkMeta, type Cluster } from '../../dist/store/index.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';

const D20120102 = D20120101 + 1;
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

/** Two partitions of 20 rows each, and a stage per partition holding a copy of its current files. */
function setup() {
  home = tmpDir('commit-stages');
  const { c, db } = makeTradesDb(path.join(home, 'h'));
  append(c, db, 'trades', tradeRows(40, ['IBM'], [D20120101, D20120102]));
  const chunks = loadChunks(c, db);
  const items = chunks.map((k) => {
    const v = k.tables.trades!;
    const stage = stageVersion(c, db, k, 'trades');
    fs.cpSync(path.join(c.chunkDir(k, db), v.version), stage.dir, { recursive: true });
    return { stage, staged: { rows: v.rows, files: v.files, origin: { chunkId: k.chunkId, cid: v.cid } } };
  });
  return { c, db, chunks, items };
}

/**
 * Partition `p` dropped and placed again (a new chunk, not yet in the catalog), with a stage of
 * trades holding a copy of `from`'s current files: what a restore into a new partition commits.
 */
async function placedAgain(c: Cluster, db: string, p: ChunkMeta, from: ChunkMeta) {
  dropPartition(c, db, p.path);
  const { chunks: placedChunks, durable } = placeChunks(c, db, [{ path: p.path }]);
  await durable;
  const placed = placedChunks.get(p.path)!;
  const stage = stageVersion(c, db, placed, 'trades');
  const v = from.tables.trades!;
  fs.cpSync(path.join(c.chunkDir(from, db), v.version), stage.dir, { recursive: true });
  return { placed, stage, staged: { rows: v.rows, files: v.files } };
}

describe('commitStages', () => {
  it('publishes every stage of the group in one commit, each with a new cid and its origin', async () => {
    const { c, db, chunks, items } = setup();
    const after = await commitStages(c, db, items);
    expect(after).toHaveLength(2);
    for (const k of loadChunks(c, db)) {
      const before = chunks.find((x) => x.chunkId === k.chunkId)!.tables.trades!;
      expect(k.tables.trades!.cid).toBeGreaterThan(before.cid);
      expect(k.tables.trades!.origin).toEqual({ chunkId: k.chunkId, cid: before.cid });
      expect(readPartition(c, db, 'trades', k.path).rows).toBe(before.rows);
    }
    for (const { stage } of items) expect(fs.existsSync(stage.dir)).toBe(false);
    expect(fs.existsSync(path.join(c.dbDir(db), 'commit.json'))).toBe(false);
  });

  it('commits nothing when one chunk of the group was dropped meanwhile, and removes every stage', async () => {
    const { c, db, chunks, items } = setup();
    dropPartition(c, db, chunks[1]!.path);
    const err = await commitStages(c, db, items).catch((e: unknown) => e);
    expect(err instanceof CvError && err.code).toBe('CONFLICT');
    expect(loadChunks(c, db).map((k) => k.tables.trades!.cid)).toEqual([chunks[0]!.tables.trades!.cid]);
    for (const { stage } of items) expect(fs.existsSync(stage.dir)).toBe(false);
  });

  it('refuses a placed partition that another writer created after an earlier group had read the catalog', async () => {
    const { c, db, chunks, items } = setup();
    await commitStages(c, db, [items[0]!]); // this process has now read every chunk's path once
    const p2 = chunks[1]!;
    const { stage, staged } = await placedAgain(c, db, p2, loadChunks(c, db)[0]!);
    append(c, db, 'trades', tradeRows(10, ['IBM'], [D20120102])); // the other writer creates the partition
    const err = await commitStages(c, db, [{ stage, staged }]).catch((e: unknown) => e);
    expect(err instanceof CvError && err.code).toBe('CONFLICT');
    expect(loadChunks(c, db).filter((k) => k.path === p2!.path)).toHaveLength(1);
    expect(fs.existsSync(stage.dir)).toBe(false);
  });

  it('creates a placed partition without trying to read a chunk file it does not have yet', async () => {
    const { c, db, chunks } = setup();
    const [p1, p2] = chunks;
    const { placed, stage, staged } = await placedAgain(c, db, p2!, p1!);
    const v = p1!.tables.trades!;
    const read = vi.spyOn(fs, 'readFileSync');
    try {
      await commitStages(c, db, [{ stage, staged }]);
      expect(read.mock.calls.map((a) => String(a[0])).filter((f) => f.endsWith(`${placed.chunkId}.json`))).toEqual([]);
    } finally {
      read.mockRestore();
    }
    expect(loadChunks(c, db).find((k) => k.path === p2!.path)?.tables.trades?.rows).toBe(v.rows);
  });

  it('does not read the directory of a chunk this process placed, where the publish superseded nothing', async () => {
    const { c, db, chunks } = setup();
    const [p1, p2] = chunks;
    const { placed, stage, staged } = await placedAgain(c, db, p2!, p1!);
    const chunkDir = c.chunkDir(placed, db);
    const readdir = vi.spyOn(fs, 'readdirSync');
    try {
      await commitStages(c, db, [{ stage, staged }]);
      expect(readdir.mock.calls.map((a) => String(a[0])).filter((d) => d === chunkDir)).toEqual([]);
    } finally {
      readdir.mockRestore();
    }
    expect(loadChunks(c, db).find((k) => k.path === p2!.path)?.tables.trades?.rows).toBe(p1!.tables.trades!.rows);
  });

  it('still collects the version a publish supersedes in a chunk this process placed', async () => {
    const { c, db, chunks } = setup();
    const [p1, p2] = chunks;
    const first = await placedAgain(c, db, p2!, p1!);
    await commitStages(c, db, [{ stage: first.stage, staged: first.staged }]);
    const old = loadChunks(c, db).find((k) => k.path === p2!.path)!;
    const oldDir = path.join(c.chunkDir(old, db), old.tables.trades!.version);
    const stage = stageVersion(c, db, first.placed, 'trades');
    fs.cpSync(oldDir, stage.dir, { recursive: true });
    await commitStages(c, db, [{ stage, staged: first.staged }]);
    expect(fs.existsSync(oldDir)).toBe(false);
    expect(loadChunks(c, db).find((k) => k.path === p2!.path)!.tables.trades!.cid).toBeGreaterThan(old.tables.trades!.cid);
  });

  it('collects what a dead writer left in a placed chunk whose directory already stood', async () => {
    const { c, db, chunks } = setup();
    const [p1, p2] = chunks;
    dropPartition(c, db, p2!.path);
    const dirOf = c.chunkDir(p2!, db);
    const leftover = path.join(dirOf, '.trades_0_tid_999999999_abc');
    fs.mkdirSync(leftover, { recursive: true });
    const { chunks: placedChunks, durable } = placeChunks(c, db, [{ path: p2!.path }]);
    await durable;
    const placed = placedChunks.get(p2!.path)!;
    expect(c.chunkDir(placed, db)).toBe(dirOf);
    const stage = stageVersion(c, db, placed, 'trades');
    fs.cpSync(path.join(c.chunkDir(p1!, db), p1!.tables.trades!.version), stage.dir, { recursive: true });
    await commitStages(c, db, [{ stage, staged: { rows: p1!.tables.trades!.rows, files: p1!.tables.trades!.files } }]);
    expect(fs.existsSync(leftover)).toBe(false);
  });

  it('does not read back for its path a chunk file an earlier group commit of this process wrote', async () => {
    const { c, db, chunks } = setup();
    const [p1, p2] = chunks;
    const first = await placedAgain(c, db, p2!, p1!);
    await commitStages(c, db, [{ stage: first.stage, staged: first.staged }]);
    const second = await placedAgain(c, db, p1!, loadChunks(c, db).find((k) => k.path === p2!.path)!);
    const read = vi.spyOn(fs, 'readFileSync');
    try {
      await commitStages(c, db, [{ stage: second.stage, staged: second.staged }]);
      expect(read.mock.calls.map((a) => String(a[0])).filter((f) => f.endsWith(`${first.placed.chunkId}.json`))).toEqual([]);
    } finally {
      read.mockRestore();
    }
    expect(loadChunks(c, db).map((k) => k.path).sort()).toEqual([p1!.path, p2!.path].sort());
  });
});
