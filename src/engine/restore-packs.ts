import path from 'node:path';
import { corrupt } from '../common/errors.js';
import type { CopyPipeline } from '../io/index.js';
import { entryKey, type ManifestEntry } from '../repo/manifest.js';
import { runWithAgents } from '../repo/backend/index.js';
import { PACK_TASK, type PackedStore } from '../repo/packed.js';
import type { ReadPacksTask, ReadResult } from '../repo/pack-task.js';

/**
 * One entry to read back: its manifest entry, and the directory its files go to ('' to only
 * verify). The worker makes that directory, exclusively, before writing into it: a store stage
 * made with `writerMakesDir`.
 */
export interface EntryRead {
  chunkId: string;
  table: string;
  e: ManifestEntry;
  dir: string;
}

/** The repository's disk, and the target's where the files are made (none for a check, which reads only). */
export interface TaskDisks {
  src: string;
  dst?: string;
}

/**
 * Reads entries' files out of their packs by byte range, as one worker task, each into its `dir`
 * (a store staging directory): each blob decoded and verified, each file fdatasynced (unless
 * `sync` is false: restore's group commit makes them durable together). The file names come from
 * the manifest (already validated); the index only says where the bytes are, and must agree with
 * the manifest. A problem with any entry fails the task (restore then reads the entries one by one).
 */
export async function readEntriesFromPacks(store: PackedStore, pipeline: CopyPipeline, reads: EntryRead[], disks: TaskDisks, sync = true): Promise<ReadResult[][]> {
  const task: ReadPacksTask = {
    op: 'reads',
    backend: store.backendSpec,
    codec: store.codecSpec,
    reads: reads.map(({ chunkId, table, e, dir }) => {
      const key = entryKey(chunkId, table, e.cid);
      const loc = store.locate(key, e);
      if (!loc) throw corrupt(`the backup lacks the data of ${key}: no pack index names it`);
      return {
        pack: loc.pack,
        packSize: loc.packSize,
        key,
        foreign: store.foreignSizes([loc.entry]),
        // Appended, not joined: a manifest's file names are single path components (names.ts), and
        // path.join of 28,000 destinations was ~0.05 s of a many-shape restore's main thread.
        files: loc.entry.files.map((f, i) => ({ ...f, ...(dir ? { dst: dir + path.sep + e.files[i]!.name } : {}) })),
        ...(sync ? {} : { sync: false }),
        ...(dir ? { makeDir: dir } : {}),
      };
    }),
  };
  return runWithAgents<ReadResult[][]>(pipeline, PACK_TASK, task, disks.dst ? [disks.src, disks.dst] : [disks.src], disks.dst);
}

/** readEntriesFromPacks of one entry (check verifies entry by entry and reports each). */
export async function readEntryFromPack(store: PackedStore, pipeline: CopyPipeline, chunkId: string, table: string, e: ManifestEntry, dir: string, disks: TaskDisks, sync = true): Promise<ReadResult[]> {
  return (await readEntriesFromPacks(store, pipeline, [{ chunkId, table, e, dir }], disks, sync))[0]!;
}
