import path from 'node:path';
import { corrupt } from '../common/errors.js';
import type { CopyPipeline } from '../io/index.js';
import { entryKey, type ManifestEntry } from '../repo/manifest.js';
import { PACK_TASK, type PackedStore } from '../repo/packed.js';
import type { ReadPackTask, ReadResult } from '../repo/pack-task.js';

/**
 * Reads one entry's files out of its pack by byte range into `dir` (a store staging directory),
 * each blob decoded and verified, each file fdatasynced (unless `sync` is false: restore's group
 * commit makes them durable together). The file names come from the manifest
 * (already validated); the index only says where the bytes are, and must agree with the manifest.
 */
export async function readEntryFromPack(store: PackedStore, pipeline: CopyPipeline, chunkId: string, table: string, e: ManifestEntry, dir: string, disks: string[], sync = true): Promise<ReadResult[]> {
  const key = entryKey(chunkId, table, e.cid);
  const loc = store.locate(key, e);
  if (!loc) throw corrupt(`the backup lacks the data of ${key}: no pack index names it`);
  const task: ReadPackTask = {
    op: 'read',
    backend: store.backendSpec,
    codec: store.codecSpec,
    pack: loc.pack,
    packSize: loc.packSize,
    key,
    foreign: store.foreignSizes([loc.entry]),
    files: loc.entry.files.map((f, i) => ({ ...f, ...(dir ? { dst: path.join(dir, e.files[i]!.name) } : {}) })),
    ...(sync ? {} : { sync: false }),
  };
  return pipeline.runModule<ReadResult[]>(PACK_TASK, task, disks);
}
