import path from 'node:path';
import { uniqueHex } from '../common/unique-name.js';
import { conflict } from '../common/errors.js';
import { makeDir, removeTree } from '../common/fsio.js';
import { groupSyncAllAsync } from '../common/group-sync.js';
import { chunkFileNames, chunkPaths, loadChunksById, loadDatabase, tableOf, type ChunkMeta, type Cluster, type DatabaseDef, type FileEntry } from './catalog.js';
import { commitVersionLocked, dirMadeHere, ensureChunksLocked } from './mvcc.js';
import { publishLockedAsync, type PublishItem } from './multi-commit.js';

/**
 * The store's commit API: the one way anything outside the store (restore, generate, the coming
 * load) and the store's own append publish data. The caller writes files into a stage; the store
 * runs every step of docs/FORMAT.md "The commit protocol (MVCC)" itself, so no caller names a
 * staging directory, allocates a cid or cleans up.
 */

/** What the files written into a stage make up. */
export interface StagedFiles {
  rows: number;
  /** Every file of the version, written into the stage: fdatasynced for Stage.commit; commitStages syncs them together. */
  files: FileEntry[];
  /** Where restored data came from, so a rerun can tell the target already holds it. */
  origin?: { chunkId: string; cid: number };
}

/** A new version of one table in one chunk, being written. */
export interface Stage {
  /**
   * A directory private to this process inside the chunk's directory (the same file system, so the
   * commit is a rename); GC spares it while this process lives. Write the version's files here.
   */
  readonly dir: string;
  /**
   * Makes the staged files the table's current version in the chunk (new cid, rename, atomic
   * metadata switch, GC), under the database lock. On failure the stage is removed.
   */
  commit(staged: StagedFiles): ChunkMeta;
  /** Removes the stage and everything in it. Does nothing once committed or aborted. */
  abort(): void;
}

class VersionStage implements Stage {
  state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    private readonly c: Cluster,
    private readonly db: string,
    readonly chunk: ChunkMeta,
    readonly table: string,
    readonly dir: string,
  ) {}

  get chunkId(): string {
    return this.chunk.chunkId;
  }

  commit(staged: StagedFiles): ChunkMeta {
    return this.c.withDbLock(this.db, () => this.commitLocked(staged));
  }

  commitLocked(staged: StagedFiles): ChunkMeta {
    if (this.state !== 'open') throw new Error(`internal: a ${this.state} stage cannot be committed: ${this.dir}`); // a bug: exit 1
    try {
      const chunk = commitVersionLocked(this.c, this.db, this.chunkId, this.table, { dir: this.dir, ...staged });
      this.state = 'committed';
      return chunk;
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    removeTree(this.dir);
  }
}

/**
 * Starts a new version of `table` in `chunk` (a chunk from ensureChunks). `def`: the database's
 * definition if the caller already read it (restore stages thousands of versions; the commit
 * checks the table again under the lock). `writerMakesDir`: the stage's directory is not made
 * here; whoever writes its files makes it first, with an exclusive mkdir (fsio makeDir), and
 * fails if the name exists. A restore's worker does (6,000 mkdirs, ~0.2 s of the many shape's
 * main thread, its bottleneck).
 */
export function stageVersion(c: Cluster, db: string, chunk: ChunkMeta, table: string, def?: DatabaseDef, writerMakesDir = false): Stage {
  const t = tableOf(def ?? loadDatabase(c, db), table);
  // The name carries the pid, so GC can tell a live writer's stage from a dead one's.
  const dir = path.join(c.chunkDir(chunk, db), `.${table}_${t.physIndex}_tid_${process.pid}_${uniqueHex()}`);
  // Made here (or by the writer), never taken over: whatever stands at the name (a link) is not written through.
  if (!writerMakesDir && !makeDir(dir)) throw conflict(`staging directory ${dir} already exists`);
  return new VersionStage(c, db, chunk, table, dir);
}

/** A stage and what its files make up, for commitStages. */
export interface StagedCommit {
  stage: Stage;
  staged: StagedFiles;
}

/**
 * Group durability: commits many stages (any tables, any chunks of one database) together, with
 * one multi-partition commit (multi-commit.ts): every stage becomes visible, or none does. The
 * stages' files need not be fdatasynced: they are made durable together, first off the event loop
 * (where most of the flushing happens) and then once more under the lock, after the renames.
 * A chunk dropped meanwhile fails the whole group (CONFLICT); on any failure every stage is removed.
 */
export async function commitStages(c: Cluster, db: string, items: StagedCommit[]): Promise<ChunkMeta[]> {
  const stages = items.map((x) => {
    if (!(x.stage instanceof VersionStage) || x.stage.state !== 'open') throw new Error('internal: commitStages takes open stages made by stageVersion');
    return x.stage;
  });
  try {
    await groupSyncAllAsync([{ dirs: stages.map((s) => s.dir), anchors: c.dbRootsOf(stages.map((s) => s.chunk), db) }]);
    const chunks = await c.withDbLockAsync(db, async () => {
      const def = loadDatabase(c, db);
      // Only the stages' own chunk files are read; the paths of the others come from a cache.
      const files = chunkFileNames(c, db);
      const byId = loadChunksById(c, db, new Set(stages.map((s) => s.chunkId)), files);
      const paths = chunkPaths(c, db, files);
      const publish: PublishItem[] = items.map(({ staged }, i) => {
        const s = stages[i]!;
        // A chunk placed by placeChunks is created here, unless its path is taken meanwhile.
        const chunk = byId.get(s.chunkId) ?? (Object.keys(s.chunk.tables).length === 0 && !paths.has(s.chunk.path) ? s.chunk : undefined);
        if (!chunk) throw conflict(`partition ${s.chunk.path} (${s.chunkId}) of ${db} was dropped or created by another writer while being written`);
        return { chunk, table: s.table, physIndex: tableOf(def, s.table).physIndex, dir: s.dir, dirMadeHere: dirMadeHere(s.chunk), ...staged };
      });
      return publishLockedAsync(c, db, publish);
    });
    for (const s of stages) s.state = 'committed';
    return chunks;
  } catch (err) {
    for (const s of stages) s.abort();
    throw err;
  }
}

/** Commits a stage inside the store's own locked sections (append); the caller holds the database lock. */
export function commitStageLocked(stage: Stage, staged: StagedFiles): ChunkMeta {
  if (!(stage instanceof VersionStage)) throw new Error('internal: not a stage made by stageVersion');
  return stage.commitLocked(staged);
}

/**
 * The chunks for partition paths, creating missing ones (placed round-robin over volumes, with
 * the given chunkId if any), all under one database lock and one catalog read.
 */
export function ensureChunks(c: Cluster, db: string, wanted: { path: string; chunkId?: string }[]): Map<string, ChunkMeta> {
  return c.withDbLock(db, () => ensureChunksLocked(c, db, wanted));
}

/**
 * ensureChunks for a caller that commits with commitStages: missing chunks are placed (directory
 * made) but not written to the catalog; commitStages creates each chunk file with the chunk's
 * first version, a new name rather than a replaced one. The new directories are made durable off
 * the event loop, in `durable`, while the caller copies: nothing may be committed into them
 * before it resolves. Made durable here, under the lock, restore-db's copies waited for the syncfs
 * helper to start and sync every volume (53-62 ms before the first copy on the emulated seed disks,
 * shared 2-core machine).
 */
export function placeChunks(c: Cluster, db: string, wanted: { path: string; chunkId?: string }[]): { chunks: Map<string, ChunkMeta>; durable: Promise<void> } {
  const newDirs: string[] = [];
  const chunks = c.withDbLock(db, () => ensureChunksLocked(c, db, wanted, { placeOnly: true, newDirs }));
  return { chunks, durable: groupSyncAllAsync([{ dirs: newDirs, files: [], anchors: c.dbRootsOf(chunks.values(), db) }]) };
}
