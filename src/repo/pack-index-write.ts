/**
 * The pack index, written by the worker that wrote the pack, right after the pack is durable.
 * On the main thread its fdatasync and directory fsync blocked the event loop (0.30 s of
 * fdatasync in one backup-db of the wide shape's dfs://testdb, up to 0.16 s each, while other
 * packs were being written back), and no worker got its next pack meanwhile.
 */
import { corrupt } from '../common/errors.js';
// Not the store's index: each copy worker loads this module, and the index pulls in the whole store.
import { versionProblem } from '../store/version-check.js';
import type { ColumnDef, Engine } from '../store/index.js';
import type { Backend } from './backend/index.js';
import type { BlobCodec } from './codec/index.js';
import { foreignPacks, indexObject, type PackIndex, type PackedEntry, type PackedFile } from './pack-format.js';
import { sealJson } from './sealed-json.js';

/** What the index records for an entry besides its files, and the catalog its files must agree with. */
export interface IndexedEntry {
  cid: number;
  rows: number;
  bytes: number;
  updateTime: string;
  engine: Engine;
  schema: ColumnDef[];
  /** Names the entry in the error when its files do not match the catalog. */
  label: string;
}

/**
 * Indexes a durable pack: every entry's file headers must match its catalog description (a
 * point must describe its data; an indexed entry is reused by later backups as it is, v2's
 * journal), then the index object is written, durable and create-only.
 */
export function writePackIndex(backend: Backend, codec: BlobCodec, pack: string, packSize: number, entries: { key: string; files: (PackedFile & { head: Uint8Array })[]; meta: IndexedEntry }[]): PackIndex {
  const indexed: PackedEntry[] = entries.map(({ key, files, meta }) => {
    const problem = versionProblem(meta.engine, meta.schema, meta.rows, files);
    if (problem) throw corrupt(`${meta.label}: the catalog does not describe its files: ${problem}`);
    return { key, cid: meta.cid, rows: meta.rows, bytes: meta.bytes, updateTime: meta.updateTime, files: files.map(({ head: _head, ...f }) => f) };
  });
  // Format 2 only when needed: an older chunkvault then refuses the index rather than misread a foreign blob.
  const ix: PackIndex = { format: foreignPacks(indexed).size ? 2 : 1, pack, packSize, entries: indexed };
  backend.write(indexObject(pack), codec.sealObject(Buffer.from(sealJson(ix))), { createOnly: true });
  return ix;
}
