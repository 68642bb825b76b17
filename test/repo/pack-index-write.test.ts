import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeColumnFile } from '../../dist/store/olap-format.js';
import { CvError } from '../../dist/common/errors.js';
import { PLAIN_CODEC } from '../../dist/repo/codec/index.js';
import { PackedStore } from '../../dist/repo/packed.js';
import run from '../../dist/repo/pack-task.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const ctx = { buf: Buffer.alloc(256 * 1024), stopped: () => false, acquire: () => true, progress: () => {}, create: <T>(make: () => T): T => make() };
const schema = [
  { name: 'id', type: 'INT' as const },
  { name: 'price', type: 'DOUBLE' as const },
];

/** One OLAP entry of `rows` rows written by the store, and a pack task for it whose index meta says `catalogRows`. */
function scene(rows: number, catalogRows: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-pack-index-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, 'repo'));
  const files = schema.map((c) => {
    const src = path.join(dir, 'src', `${c.name}.col`);
    const size = writeColumnFile(src, c, { kind: 'num', type: c.type, values: Array.from({ length: rows }, (_, i) => i) } as never, rows, false);
    return { src, name: `${c.name}.col`, size };
  });
  const backend = { kind: 'local' as const, root: path.join(dir, 'repo') };
  const pack = 'cd'.repeat(16);
  const bytes = files.reduce((a, f) => a + f.size, 0);
  const index = [{ cid: 7, rows: catalogRows, bytes, updateTime: '2026-11-27T00:00:00.000Z', engine: 'OLAP' as const, schema, label: 'dfs://db partition /20120101 table t' }];
  const task = { op: 'write' as const, backend, codec: PLAIN_CODEC, pack, entries: [{ key: '0d5f8e4c-2b1a-4c3d-9e8f-a1b2c3d4e5f6/t/7', files }], index };
  return { backend, pack, task, store: new PackedStore(backend, PLAIN_CODEC) };
}

describe('the pack writer with an index', () => {
  it('indexes the pack it wrote: the index object reads back with the entry and its blobs', async () => {
    const s = scene(100, 100);
    const res = (await run(s.task, ctx)) as { packSize: number; index: { entries: { key: string; rows: number }[] } };
    const ix = s.store.readPackIndex(s.pack);
    expect(ix.packSize).toBe(res.packSize);
    expect(ix.entries.map((e) => [e.key, e.rows, e.files.map((f) => f.name)])).toEqual([['0d5f8e4c-2b1a-4c3d-9e8f-a1b2c3d4e5f6/t/7', 100, ['id.col', 'price.col']]]);
    expect(res.index).toEqual(ix);
  });

  it('refuses files that do not match the catalog: CORRUPT naming the entry, and the pack is never indexed', async () => {
    const s = scene(100, 101);
    // A pack task may throw at once (it is synchronous) or reject: the worker awaits either.
    const err = await (async () => run(s.task, ctx))().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CvError);
    expect((err as CvError).code).toBe('CORRUPT');
    expect((err as CvError).message).toMatch(/^dfs:\/\/db partition \/20120101 table t: the catalog does not describe its files: id\.col holds 100 rows/);
    expect(fs.existsSync(path.join(s.backend.root, 'index'))).toBe(false);
  });
});
