import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { corrupt } from '../common/errors.js';
import { groupSyncAsync } from '../common/group-sync.js';
import { diskOf, type CopyPipeline, type FileJob, type FilledPipelineOptions, type UsedMethod } from '../io/index.js';
import { versionProblem, type ChunkMeta, type Cluster, type DatabaseDef, type TableVersion } from '../store/index.js';
import type { Journal } from '../repo/journal.js';
import { entryKey, type ManifestEntry } from '../repo/manifest.js';
import type { Repository } from '../repo/repository.js';
import { setEntry, type BackupPlan } from './backup-plan.js';
import { COMMIT_GROUP, GroupFlusher } from './group-flush.js';
import { kickingWriteback, runLimited, withPipeline, type Observer } from './options.js';
import { batchBy } from './batches.js';

export interface MirrorInput {
  c: Cluster;
  repo: Repository;
  def: DatabaseDef;
  plan: BackupPlan;
  dbPath: string;
  copying: FilledPipelineOptions;
  observer: Observer | undefined;
  /** A pool booted early (backup), else made here when there is something to copy. */
  started?: CopyPipeline | undefined;
}

/** One copied entry, staged and checked, waiting for its group. */
interface Staged {
  chunk: ChunkMeta;
  table: string;
  staging: string;
  entry: ManifestEntry;
}

/**
 * The v1 backup's copy (the file mirror). Each entry is copied into a staging directory without
 * an fdatasync per file and its headers are tied to the catalog; entries are then made durable
 * in groups (group-flush.ts, restore's limits): one group sync of their staging directories (the
 * bytes durable before anything names them), their publishes (renames), one group sync of the
 * directories the renames changed, and one journal write and fdatasync for the group's records.
 * A rerun never copies what a journal vouches for; a kill loses the groups not yet journaled.
 * Before, each entry paid an fdatasync per file, one per level of its publish and one for its
 * journal record: about a dozen for each of the many shape's 6,000 entries (docs/PERFORMANCE.md,
 * "Session 9: the v1 backup's group durability").
 */
export async function copyIntoMirror(x: MirrorInput): Promise<{ bytes: number; methods: Set<UsedMethod>; journal: Journal }> {
  const { c, repo, plan } = x;
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const journal = repo.openJournal(runId);
  const at = { runId, disks: new Map(c.volumes.map((v) => [v.path, v.disk])), dstDisk: diskOf(repo.dir), methods: new Set<UsedMethod>() };
  const total = plan.toCopy.reduce((a, j) => a + j.chunk.tables[j.table]!.bytes, 0);
  let bytes = 0;
  const groups = new GroupFlusher<Staged>(COMMIT_GROUP, async (group) => {
    await groupSyncAsync(group.map((g) => g.staging));
    const dirs = new Set<string>();
    for (const g of group) for (const d of await repo.publish(g.staging, g.chunk.chunkId, g.table, g.entry.cid)) dirs.add(d);
    await groupSyncAsync([...dirs]);
    await journal.append(...group.map((g) => ({ key: entryKey(g.chunk.chunkId, g.table, g.entry.cid), entry: g.entry })));
    for (const g of group) {
      setEntry(plan.parts, g.chunk, g.table, g.entry);
      bytes += g.entry.bytes;
      x.observer?.partitionDone?.(g.table);
    }
  });
  // Worker threads cost ~100 ms to start: a no-change backup never starts them.
  if (plan.toCopy.length)
    await withPipeline(x.copying, x.observer, total, (pipe) => kickingWriteback([repo.dir], pipe, async () => {
      try {
        // Small entries share a pool task (batches.ts), unless throttled: a batch joins its group
        // only once all of it is copied, and the group timer must commit as a slow copy goes.
        const diskOfJob = (chunk: ChunkMeta) => at.disks.get(chunk.volume) ?? diskOf(chunk.volume);
        const measure = ({ chunk, table }: (typeof plan.toCopy)[number]) => ({ key: diskOfJob(chunk), bytes: chunk.tables[table]!.bytes, files: chunk.tables[table]!.files.length });
        const batches = batchBy(plan.toCopy, measure, pipe.rate > 0 ? { bytes: 0, files: 0 } : undefined);
        await runLimited(batches, x.copying.inFlight, async (batch) => {
          for (const s of await copyEntries(x, at, pipe, batch, diskOfJob(batch[0]!.chunk))) groups.add(s, s.entry.bytes);
        });
      } catch (err) {
        // What was copied is journaled even after a failure, under the lock (a rerun need not copy
        // it again), and no group is left to flush after the run has given the lock up.
        await groups.flush().catch(() => undefined);
        throw err;
      }
      await groups.flush();
    }), x.started);
  return { bytes, methods: at.methods, journal };
}

/** Where a run's copies go: its id (names its staging directories), the disks' queues, the copy methods used. */
interface MirrorRun {
  runId: string;
  disks: Map<string, string>;
  dstDisk: string;
  methods: Set<UsedMethod>;
}

/**
 * Entries of one source disk (`srcDisk`) copied into their staging directories (not yet durable) as one pool
 * task, each tied to the catalog. Any failure fails the backup, as one entry's did.
 */
async function copyEntries(x: MirrorInput, at: MirrorRun, pipe: CopyPipeline, batch: { chunk: ChunkMeta; table: string }[], srcDisk: string): Promise<Staged[]> {
  const staged: (Omit<Staged, 'entry'> & { v: TableVersion; files: FileJob[] })[] = [];
  for (const { chunk, table } of batch) {
    const v = chunk.tables[table]!;
    const src = path.join(x.c.chunkDir(chunk, x.dbPath), v.version) + path.sep; // store file names: appended
    const staging = await x.repo.stage(chunk.chunkId, table, v.cid, at.runId, v.files.map((f) => f.name));
    staged.push({ chunk, table, v, staging: staging.dir, files: v.files.map((f, i) => ({ src: src + f.name, dst: staging.files[i]!, expectedSize: f.size })) });
  }
  const results = await pipe.copyFiles(staged.flatMap((s) => s.files), srcDisk, at.dstDisk, { durable: false });
  let next = 0;
  return staged.map(({ chunk, table, v, staging, files }) => {
    const mine = results.slice(next, (next += files.length));
    mine.forEach((r) => at.methods.add(r.method));
    // A point must describe its data: the catalog's row count and schema must match the copied headers.
    const problem = versionProblem(x.def.engine, x.def.tables[table]!.schema, v.rows, mine.map((r, i) => ({ name: v.files[i]!.name, size: r.size, head: r.head })));
    if (problem) throw corrupt(`${x.dbPath} partition ${chunk.path} table ${table}: the catalog does not describe its files: ${problem}`);
    const entry: ManifestEntry = { cid: v.cid, rows: v.rows, bytes: v.bytes, updateTime: v.updateTime, files: mine.map((r, i) => ({ name: v.files[i]!.name, size: r.size, xxh3: r.xxh3 })) };
    return { chunk, table, staging, entry };
  });
}
