import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { uniqueHex } from '../../dist/common/unique-name.js';
import { append, dropPartition, ensureChunks, loadChunks, readPartition, stageVersion, type Cluster } from '../../dist/store/index.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { rmTmp, tmpDir } from '../helpers/tmp.js';

let home: string | undefined;
afterEach(() => {
  rmTmp(home);
  home = undefined;
});

/** A database with 50 rows in one partition, and a copy of that version's files to stage again. */
function setup() {
  home = tmpDir('commit');
  const { c, db } = makeTradesDb(path.join(home, 'h'));
  append(c, db, 'trades', tradeRows(50, ['IBM'], [D20120101]));
  const chunk = loadChunks(c, db)[0]!;
  const v = chunk.tables.trades!;
  const copyInto = (dir: string) => fs.cpSync(path.join(c.chunkDir(chunk, db), v.version), dir, { recursive: true });
  return { c, db, chunk, v, copyInto, chunkDir: c.chunkDir(chunk, db) };
}

const stages = (chunkDir: string) => fs.readdirSync(chunkDir).filter((n) => n.startsWith('.'));
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof CvError ? err.code : String(err);
  }
  return 'no error';
};

describe('stageVersion and commit', () => {
  it('stages in a private directory inside the chunk directory named after the table, physIndex and this pid', () => {
    const { c, db, chunk, chunkDir } = setup();
    const stage = stageVersion(c, db, chunk, 'trades');
    expect(path.dirname(stage.dir)).toBe(chunkDir);
    expect(path.basename(stage.dir)).toMatch(new RegExp(`^\\.trades_0_tid_${process.pid}_[0-9a-f]{9,}$`));
    expect(fs.statSync(stage.dir).isDirectory()).toBe(true);
    expect(stageVersion(c, db, chunk, 'trades').dir).not.toBe(stage.dir);
  });

  it('leaves the directory of a stage whose writer makes it unmade, and its abort removes nothing else', () => {
    const { c, db, chunk, chunkDir } = setup();
    const before = fs.readdirSync(chunkDir).sort();
    const stage = stageVersion(c, db, chunk, 'trades', undefined, true);
    expect(path.dirname(stage.dir)).toBe(chunkDir);
    expect(fs.existsSync(stage.dir)).toBe(false);
    stage.abort();
    expect(fs.readdirSync(chunkDir).sort()).toEqual(before);
  });

  it('refuses a stage whose name is already taken (a link placed there) and writes nothing through it', () => {
    const { c, db, chunk, chunkDir } = setup();
    const elsewhere = path.join(home!, 'elsewhere');
    fs.mkdirSync(elsewhere);
    // The next name uniqueHex gives: its prefix is drawn once per thread, then a counter.
    const h = uniqueHex();
    const next = h.slice(0, 8) + (parseInt(h.slice(8), 16) + 1).toString(16);
    fs.symlinkSync(elsewhere, path.join(chunkDir, `.trades_0_tid_${process.pid}_${next}`));
    expect(codeOf(() => stageVersion(c, db, chunk, 'trades'))).toBe('CONFLICT');
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it('commit makes the staged files the current version with a fresh cid, and records the origin', () => {
    const { c, db, chunk, v, copyInto } = setup();
    const stage = stageVersion(c, db, chunk, 'trades');
    copyInto(stage.dir);
    const origin = { chunkId: randomUUID(), cid: 7 };
    const after = stage.commit({ rows: v.rows, files: v.files, origin }).tables.trades!;
    expect(after.cid).toBeGreaterThan(v.cid);
    expect(after.origin).toEqual(origin);
    expect(loadChunks(c, db)[0]!.tables.trades).toEqual(after);
    expect(fs.existsSync(stage.dir)).toBe(false);
    expect(readPartition(c, db, 'trades', chunk.path).rows).toBe(50);
  });

  it('abort removes the stage and what was written into it, and leaves the current version', () => {
    const { c, db, chunk, v, copyInto, chunkDir } = setup();
    const stage = stageVersion(c, db, chunk, 'trades');
    copyInto(stage.dir);
    stage.abort();
    expect(stages(chunkDir)).toEqual([]);
    expect(loadChunks(c, db)[0]!.tables.trades).toEqual(v);
  });

  it('a commit into a partition dropped meanwhile is CONFLICT and removes the stage', () => {
    const { c, db, chunk, v, copyInto } = setup();
    const stage = stageVersion(c, db, chunk, 'trades');
    copyInto(stage.dir);
    dropPartition(c, db, chunk.path); // removes the chunk's directory, stage and all
    fs.mkdirSync(stage.dir, { recursive: true }); // put the stage back, to see the failed commit remove it
    expect(codeOf(() => stage.commit({ rows: v.rows, files: v.files }))).toBe('CONFLICT');
    expect(fs.existsSync(stage.dir)).toBe(false);
  });

  it('a stage commits once: committing it again is refused and changes nothing', () => {
    const { c, db, chunk, v, copyInto } = setup();
    const stage = stageVersion(c, db, chunk, 'trades');
    copyInto(stage.dir);
    const first = stage.commit({ rows: v.rows, files: v.files });
    expect(codeOf(() => stage.commit({ rows: v.rows, files: v.files }))).toMatch(/internal: a committed stage/);
    expect(loadChunks(c, db)[0]).toEqual(first);
  });

  it('abort after commit leaves the committed version in place', () => {
    const { c, db, chunk, v, copyInto } = setup();
    const stage = stageVersion(c, db, chunk, 'trades');
    copyInto(stage.dir);
    const after = stage.commit({ rows: v.rows, files: v.files });
    stage.abort();
    expect(fs.existsSync(path.join(c.chunkDir(chunk, db), after.tables.trades!.version))).toBe(true);
  });
});

describe('ensureChunks', () => {
  const paths = (c: Cluster, db: string) => loadChunks(c, db).map((k) => k.path);

  it('returns existing chunks as they are and creates missing ones, with the chunkId asked for', () => {
    const { c, db, chunk } = setup();
    const id = randomUUID();
    const other = chunk.path.replace(/\d+$/, (d) => String(Number(d) + 1));
    const got = ensureChunks(c, db, [{ path: chunk.path, chunkId: randomUUID() }, { path: other, chunkId: id }]);
    expect(got.get(chunk.path)).toEqual(chunk);
    expect(got.get(other)!.chunkId).toBe(id);
    expect(paths(c, db)).toEqual([chunk.path, other].sort());
    expect(fs.statSync(c.chunkDir(got.get(other)!, db)).isDirectory()).toBe(true);
  });
});
