import path from 'node:path';
import { DEDUP_MIN_BYTES, diskOf, type CopyPipeline, type UsedMethod } from '../io/index.js';
import { numberWidth, type ChunkMeta } from '../store/index.js';
import { setEntry, type BackupPlan, type CopyJob } from './backup-plan.js';
import { kickingWriteback, runLimited, type Observer } from './options.js';
import { entryKey } from '../repo/manifest.js';
import { localBytes, newPackId, toManifestEntry, type PackIndex } from '../repo/pack-format.js';
import { IndexedEntries, planDedup, sameAs, type DedupPlan } from './backup-dedup.js';
import { runWithAgents } from '../repo/backend/index.js';
import { PACK_TASK, type PackedStore } from '../repo/packed.js';
import type { WritePackTask } from '../repo/pack-task.js';
import type { DatabaseDef } from '../store/index.js';

/**
 * Entries at least this large get a pack of their own; smaller ones share packs up to
 * PACK_TARGET_BYTES. Chosen by the sweep in bench-results/2026-packs-sweep.md (many-partition
 * shape, 2 vCPU, ext4): see docs/PERFORMANCE.md.
 */
export const PACK_SHARE_BELOW = 4 << 20;
export const PACK_TARGET_BYTES = 16 << 20;
/**
 * Entries per pack, at most: a pack's index is built, sealed and written whole by its worker and
 * cloned back to the main thread, and read whole by every reader. The scale fixture at 20,000
 * partitions x 3 tables (tmpfs, one run each): the spread alone made 4 packs of 10,000 entries
 * (11 MB index objects) and a first v2 backup-db of dfs://testdb peaked at 1.95 GB RSS; capped at
 * 2,000, 20 packs (2.2 MB indexes), 1.60 GB; at 500, 80 packs, 1.50 GB. The rest is the main
 * thread's plan, point and remembered indexes (docs/PERFORMANCE.md, "Session 9: repository v2 at
 * 100,000 partitions"). The many shape's packs (1,000 entries) are below the cap.
 */
export const PACK_MAX_ENTRIES = 2000;

export interface PackSizing {
  shareBelow: number;
  target: number;
  /** Files at least this large are deduplicated (default DEDUP_MIN_BYTES; tests use small data). */
  dedupMinBytes?: number;
}

/**
 * Groups jobs into packs: per source disk, in plan order; a large entry alone, small ones up to the
 * target. Small entries are also spread over at least `spread` packs per disk (the workers): a
 * pack is written by one worker, so a small database that fits one pack would otherwise be read
 * file by file by one worker (the many shape's 14,000 opens serially, 2026-11-27-packs-sweep.md).
 * Each small entry weighs its share of the disk's small bytes plus its share of its small entries
 * (a pack's time goes to bytes and to opens); a pack closes once it holds 1/spread of the weight,
 * so a disk gets at most `spread` packs, or as many as PACK_MAX_ENTRIES needs when it has more
 * small entries (each still closes at the cap, or at the byte target). Closing before the entry
 * that would pass a share of the bytes, or at a share of the entries, left a fifth, small pack of
 * dfs://testdb's many-shape backup to run after the four others, on one worker.
 */
export function groupPacks(jobs: CopyJob[], diskOfJob: (j: CopyJob) => string, sizing: PackSizing = { shareBelow: PACK_SHARE_BELOW, target: PACK_TARGET_BYTES }, spread = 1): CopyJob[][] {
  const out: CopyJob[][] = [];
  const small = new Map<string, { jobs: number; bytes: number }>();
  const sizeOf = (j: CopyJob) => j.chunk.tables[j.table]!.bytes;
  for (const j of jobs) {
    if (sizeOf(j) >= sizing.shareBelow) continue;
    const t = small.get(diskOfJob(j)) ?? { jobs: 0, bytes: 0 };
    small.set(diskOfJob(j), { jobs: t.jobs + 1, bytes: t.bytes + sizeOf(j) });
  }
  const weightOf = (disk: string, bytes: number) => {
    const t = small.get(disk)!;
    return (t.bytes ? bytes / t.bytes : 0) + 1 / t.jobs;
  };
  // The whole disk weighs 2 (1 without bytes); the tolerance keeps rounding from opening one more
  // pack. A disk with more small entries than `spread` packs may hold is spread over more packs, evenly.
  const spreadOf = (disk: string) => Math.max(spread, Math.ceil(small.get(disk)!.jobs / PACK_MAX_ENTRIES));
  const shareOf = (disk: string) => (small.get(disk)!.bytes ? 2 : 1) / spreadOf(disk) - 1e-9;
  const open = new Map<string, { jobs: CopyJob[]; bytes: number; weight: number }>();
  for (const j of jobs) {
    const bytes = sizeOf(j);
    if (bytes >= sizing.shareBelow) {
      out.push([j]);
      continue;
    }
    const disk = diskOfJob(j);
    let g = open.get(disk);
    if (g && (g.bytes + bytes > sizing.target || g.jobs.length >= PACK_MAX_ENTRIES)) {
      out.push(g.jobs);
      g = undefined;
    }
    if (!g) open.set(disk, (g = { jobs: [], bytes: 0, weight: 0 }));
    g.jobs.push(j);
    g.bytes += bytes;
    g.weight += weightOf(disk, bytes);
    if (g.weight >= shareOf(disk)) {
      out.push(g.jobs);
      open.delete(disk);
    }
  }
  for (const g of open.values()) out.push(g.jobs);
  return out;
}

export interface PackCopyInput {
  store: PackedStore;
  def: DatabaseDef;
  dbPath: string;
  plan: BackupPlan;
  chunkDir: (k: ChunkMeta) => string;
  disks: Map<string, string>;
  dstDisk: string;
  inFlight: number;
  observer: Observer | undefined;
  sizing?: PackSizing;
  /** The pool's workers: small entries are spread over at least this many packs per disk. */
  workers: number;
}

/** What a v2 backup copied: plain bytes, bytes stored, and the files (and their bytes) stored as references to an identical file. */
export interface PacksCopied {
  bytes: number;
  stored: number;
  dedupFiles: number;
  dedupBytes: number;
  methods: Set<UsedMethod>;
}

const versionDirs = new WeakMap<CopyJob, { x: PackCopyInput; dir: string }>();
/**
 * A job's source file; its version directory worked out once per job and input (each file asks
 * three times: 96,000 chunkDir calls, ~0.3 s, in the many shape). The file's name is a store
 * file name (no separator), so it is appended, not joined: path.join's normalising of 84,000
 * paths was 0.15-0.17 s of the main thread's plan there.
 */
const srcOf = (x: PackCopyInput, j: CopyJob, name: string) => {
  let hit = versionDirs.get(j);
  if (hit?.x !== x) versionDirs.set(j, (hit = { x, dir: path.join(x.chunkDir(j.chunk), j.chunk.tables[j.table]!.version) + path.sep }));
  return hit.dir + name;
};
/** The repository's key of a job's (chunkId, table, cid) entry. */
const keyOf = (j: CopyJob) => entryKey(j.chunk.chunkId, j.table, j.chunk.tables[j.table]!.cid);

/**
 * Repository v2's copy: each group of entries becomes one pack, written and made durable by a
 * worker; then its index object is written (durable); only then are its entries in the new point.
 * Entries with a dedup candidate (backup-dedup.ts) go in second-wave packs, each started once the
 * packs of its candidates' originals are indexed (durable), not after the whole first wave: a
 * foreign blob may only be named by an index written after its pack's index. The S3 backup of the
 * 2 GB bench data idled on that barrier (docs/PERFORMANCE.md, "S3 backup: the dedup barrier").
 */
export async function copyIntoPacks(x: PackCopyInput, pipe: CopyPipeline): Promise<PacksCopied> {
  const diskOfJob = (j: CopyJob) => x.disks.get(j.chunk.volume) ?? diskOf(j.chunk.volume);
  // Only files planDedup may read: 28,000 records of ~600-byte files were ~0.1 s of the many shape's plan.
  const minBytes = x.sizing?.dedupMinBytes ?? DEDUP_MIN_BYTES;
  const files = x.plan.toCopy.flatMap((job) => job.chunk.tables[job.table]!.files.filter((f) => f.size >= minBytes).map((f) => ({ job, key: keyOf(job), name: f.name, src: srcOf(x, job, f.name), size: f.size })));
  const dedup = planDedup(files, minBytes);
  const waves = [x.plan.toCopy.filter((j) => !dedup.second.has(j)), x.plan.toCopy.filter((j) => dedup.second.has(j))];
  const out: PacksCopied = { bytes: 0, stored: 0, dedupFiles: 0, dedupBytes: 0, methods: new Set<UsedMethod>(['stream']) };
  // A local repository's disk gets its writeback kicked as the packs grow (a pack stays dirty until its fdatasync).
  const spec = x.store.backendSpec;
  // Every first-wave pack precedes every second-wave one in runLimited's order, so a second-wave
  // pack only ever waits for packs already started: no lane waits for a pack no lane will run.
  const groups = waves.flatMap((wave) => groupPacks(wave, diskOfJob, x.sizing, x.workers));
  await kickingWriteback(spec.kind === 'local' ? [spec.root] : [], pipe, () => copyGroups(x, pipe, groups, diskOfJob, dedup, out));
  return out;
}

async function copyGroups(x: PackCopyInput, pipe: CopyPipeline, groups: CopyJob[][], diskOfJob: (j: CopyJob) => string, dedup: DedupPlan, out: PacksCopied): Promise<void> {
  const indexed = new IndexedEntries();
  // Packs are big tasks already: two per worker-disk slot keeps the queues fed.
  await runLimited(groups, Math.max(2, Math.ceil(x.inFlight / 2)), async (group) => {
    const keys = group.map(keyOf);
    await indexed.after(group.flatMap((j) => j.chunk.tables[j.table]!.files.flatMap((f) => dedup.twins.get(srcOf(x, j, f.name))?.key ?? [])));
    await copyGroup(x, pipe, group, diskOfJob, dedup, out).then(
      () => indexed.indexed(keys),
      (err: unknown) => {
        indexed.failed(keys, err);
        throw err;
      },
    );
  });
}

/** One group as one pack, written, made durable and indexed by a worker; then its entries are in the new point. */
async function copyGroup(x: PackCopyInput, pipe: CopyPipeline, group: CopyJob[], diskOfJob: (j: CopyJob) => string, dedup: DedupPlan, out: PacksCopied): Promise<void> {
  const pack = newPackId();
  const task: WritePackTask = {
    op: 'write',
    backend: x.store.backendSpec,
    codec: x.store.codecSpec,
    pack,
    entries: group.map((j) => ({
      key: keyOf(j),
      files: j.chunk.tables[j.table]!.files.map((f) => {
        const src = srcOf(x, j, f.name);
        const same = sameAs(x.store, dedup.twins.get(src));
        const shuffle = numberWidth(x.def.engine, x.def.tables[j.table]!.schema, f.name);
        return { src, name: f.name, size: f.size, ...(same ? { same } : {}), ...(shuffle ? { shuffle } : {}) };
      }),
    })),
    // A point must describe its data: the worker ties the copied headers to the catalog's row count and schema before it indexes them.
    index: group.map(({ chunk, table }) => {
      const v = chunk.tables[table]!;
      return { cid: v.cid, rows: v.rows, bytes: v.bytes, updateTime: v.updateTime, engine: x.def.engine, schema: x.def.tables[table]!.schema, label: `${x.dbPath} partition ${chunk.path} table ${table}` };
    }),
  };
  const { index } = await runWithAgents<{ index: PackIndex }>(pipe, PACK_TASK, task, [diskOfJob(group[0]!), x.dstDisk]);
  x.store.rememberPack(index);
  group.forEach(({ chunk, table }, i) => {
    const e = index.entries[i]!;
    setEntry(x.plan.parts, chunk, table, toManifestEntry(e));
    out.bytes += e.bytes;
    out.stored += localBytes(e.files);
    for (const f of e.files.filter((f) => f.blobs.some((b) => b.pack !== undefined))) {
      out.dedupFiles++;
      out.dedupBytes += f.size;
    }
    x.observer?.partitionDone?.(table);
  });
}
