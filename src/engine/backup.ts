import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { corrupt, notFound, usage } from '../common/errors.js';
import { removeFile } from '../common/fsio.js';
import { nameMap } from '../common/json.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { applyDefaults, diskOf, fsTypeOf, mayClone, type UsedMethod } from '../io/index.js';
import { Cluster, dbNameOf, loadChunks, loadDatabase, parsePartitionPath, pinDatabase, tableOf, versionProblem, type ChunkMeta, type DatabaseDef, type Snapshot } from '../store/index.js';
import { defaultHolder, runLimited, withPipeline, type OperationOptions } from './options.js';
import { Journal, readJournals } from './repo/journal.js';
import { entryKey, newPointId, writeManifest, type Manifest, type ManifestEntry, type ManifestPartition } from './repo/manifest.js';
import { Repository } from './repo/repository.js';

export interface BackupOptions extends OperationOptions {
  home: string;
  backupDir: string;
  dbPath: string;
  /** Copy again even what the repository already holds (repairs a damaged backup). */
  force?: boolean;
  /** DolphinDB's snapshot=false: keep partitions and tables dropped in the source. */
  keepDropped?: boolean;
  tables?: string[];
  /** Paths relative to the database, e.g. /Key3/tp/20120101. */
  partitions?: string[];
}

export interface BackupResult {
  pointId: string;
  dbPath: string;
  /** DolphinDB's return value: partitions (per table) backed up, i.e. copied. */
  partitions: number;
  skipped: number;
  dropped: number;
  bytesCopied: number;
  seconds: number;
  mbPerSec: number;
  copyMethod: UsedMethod | 'none';
  /** True when a copy is a clone sharing extents with the source (not physically independent). */
  sharesExtents: boolean;
}

interface CopyJob {
  chunk: ChunkMeta;
  table: string;
}

/** Refuses a backup directory inside a volume: GC there would delete it and it shares the disk's fate. */
function checkBackupDir(c: Cluster, backupDir: string): string {
  const dir = path.resolve(backupDir);
  for (const v of c.volumes) {
    const rel = path.relative(path.resolve(v.path), dir);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) throw usage(`backup directory ${dir} is inside volume ${v.path}; choose a directory outside the cluster's volumes`);
  }
  return dir;
}

/**
 * backup / backupDB / backupTable. Pins a consistent snapshot without blocking writers, copies
 * only the (chunkId, table, cid) the repository lacks, journals each finished copy, and commits a
 * new immutable restore point.
 */
export async function backup(o: BackupOptions): Promise<BackupResult> {
  const elapsed = stopwatch();
  const copying = applyDefaults('copy', o);
  const c = new Cluster(o.home);
  // Bad input fails before anything is created; the point itself describes the pinned snapshot.
  const early = loadDatabase(c, o.dbPath);
  const tablesOf = (d: DatabaseDef) => (o.tables?.length ? o.tables.map((t) => tableOf(d, t).name) : Object.keys(d.tables));
  tablesOf(early);
  const wanted = o.partitions?.length ? new Set(o.partitions.map((p) => parsePartitionPath(early.scheme, p))) : undefined;
  if (wanted) {
    const existing = new Set(loadChunks(c, o.dbPath).map((k) => k.path));
    for (const p of wanted) if (!existing.has(p)) throw notFound(`partition ${p} does not exist in ${o.dbPath}`);
  }
  const backupDir = checkBackupDir(c, o.backupDir);
  const repo = Repository.open(backupDir, o.dbPath, true);
  const lock = repo.lock(o.holder ?? defaultHolder());
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  let snapshot: Snapshot | undefined;
  try {
    snapshot = pinDatabase(c, o.dbPath);
    const def = snapshot.def;
    const tables = tablesOf(def);
    const createdAt = new Date().toISOString();
    const prev = repo.latest();
    const { records: journaled, files: oldJournals } = readJournals(repo.dir);
    // Every run opens its journal before it stages or replaces anything and deletes it only after
    // committing, so leftovers to clean up can exist only when a journal was left behind.
    if (oldJournals.length) repo.recover();
    const chunks = snapshot.chunks.filter((k) => !wanted || wanted.has(k.path));

    // Start from the previous point: a partial backup (some tables or partitions) carries the rest over.
    const parts = new Map<string, ManifestPartition>((prev?.partitions ?? []).map((p) => [p.path, { path: p.path, chunkId: p.chunkId, tables: nameMap(p.tables) }]));
    const manifestTables = nameMap(prev?.tables);
    let dropped = 0;
    const snapshotMode = !o.keepDropped && !wanted;
    if (snapshotMode) {
      const live = new Map(snapshot.chunks.map((k) => [k.path, k]));
      for (const p of parts.values())
        for (const t of Object.keys(p.tables)) {
          const inScope = tables.includes(t) || !def.tables[t];
          const k = live.get(p.path);
          if (inScope && (!k || !k.tables[t] || k.chunkId !== p.chunkId)) {
            delete p.tables[t];
            dropped++;
          }
        }
      for (const t of Object.keys(manifestTables)) if (!def.tables[t]) delete manifestTables[t];
    }
    for (const t of tables) manifestTables[t] = def.tables[t]!;

    const toCopy: CopyJob[] = [];
    const skippedTables: string[] = [];
    const perTable = new Map(tables.map((t) => [t, 0]));
    for (const k of chunks) {
      for (const t of tables) {
        const v = k.tables[t];
        if (!v) continue;
        perTable.set(t, perTable.get(t)! + 1);
        const key = entryKey(k.chunkId, t, v.cid);
        const old = parts.get(k.path);
        // Incremental by metadata: the previous point's entries are trusted (recover() has put back any
        // copy a killed --force left aside; check verifies the bytes); a dead run's journal is re-checked.
        const inPoint = old?.chunkId === k.chunkId && old.tables[t]?.cid === v.cid ? old.tables[t] : undefined;
        const known = inPoint ?? (repo.hasData(k.chunkId, t, v.cid) ? journaled.get(key)?.entry : undefined);
        if (!o.force && known) {
          setEntry(parts, k, t, known);
          skippedTables.push(t);
        } else toCopy.push({ chunk: k, table: t });
      }
    }
    o.observer?.plan?.(tables.map((t) => ({ dbName: o.dbPath, tableName: t, total: perTable.get(t)! })));
    for (const t of skippedTables) o.observer?.partitionDone?.(t);
    const skipped = skippedTables.length;

    const journal = new Journal(repo.dir, runId);
    const dstDisk = diskOf(repo.dir);
    const disks = new Map(c.volumes.map((v) => [v.path, v.disk]));
    const total = toCopy.reduce((a, j) => a + j.chunk.tables[j.table]!.bytes, 0);
    const methods = new Set<UsedMethod>();
    let bytesCopied = 0;
    // Worker threads cost ~100 ms to start: a no-change backup never starts them.
    if (toCopy.length) await withPipeline(copying, o.observer, total, (pipe) =>
      runLimited(toCopy, copying.inFlight, async ({ chunk, table }) => {
        const v = chunk.tables[table]!;
        const src = path.join(c.chunkDir(chunk, o.dbPath), v.version);
        const staging = await repo.stagingDir(chunk.chunkId, table, v.cid, runId);
        const results = await pipe.copyFiles(
          v.files.map((f) => ({ src: path.join(src, f.name), dst: path.join(staging, f.name), expectedSize: f.size })),
          disks.get(chunk.volume) ?? diskOf(chunk.volume),
          dstDisk,
        );
        results.forEach((r) => methods.add(r.method));
        // A point must describe its data: the catalog's row count and schema must match the copied headers.
        const problem = versionProblem(def.engine, def.tables[table]!.schema, v.rows, results.map((r, i) => ({ name: v.files[i]!.name, size: r.size, head: r.head })));
        if (problem) throw corrupt(`${o.dbPath} partition ${chunk.path} table ${table}: the catalog does not describe its files: ${problem}`);
        const entry: ManifestEntry = { cid: v.cid, rows: v.rows, bytes: v.bytes, updateTime: v.updateTime, files: results.map((r, i) => ({ name: v.files[i]!.name, size: r.size, xxh3: r.xxh3 })) };
        await repo.publish(staging, chunk.chunkId, table, v.cid);
        await journal.append({ key: entryKey(chunk.chunkId, table, v.cid), entry });
        setEntry(parts, chunk, table, entry);
        bytesCopied += v.bytes;
        o.observer?.partitionDone?.(table);
      }),
    );

    const manifest: Manifest = {
      format: 2,
      pointId: newPointId(),
      ...(prev ? { parent: prev.pointId } : {}),
      dbPath: o.dbPath,
      engine: def.engine,
      scheme: def.scheme,
      tables: manifestTables,
      created: createdAt,
      committed: new Date().toISOString(),
      partitions: [...parts.values()].filter((p) => Object.keys(p.tables).length).sort((a, b) => (a.path < b.path ? -1 : 1)),
      stats: { copiedEntries: toCopy.length, skippedEntries: skipped, droppedEntries: dropped, copiedBytes: bytesCopied },
    };
    writeManifest(repo.dir, manifest);
    journal.remove();
    for (const f of oldJournals) removeFile(f);
    const seconds = elapsed();
    const method = methods.size ? [...methods][0]! : 'none';
    return {
      pointId: manifest.pointId,
      dbPath: o.dbPath,
      partitions: toCopy.length,
      skipped,
      dropped,
      bytesCopied,
      seconds,
      mbPerSec: mbPerSec(bytesCopied, seconds),
      copyMethod: method,
      sharesExtents: methods.has('reflink') || (methods.has('copy-file-range') && mayClone(fsTypeOf(repo.dir))),
    };
  } finally {
    snapshot?.release();
    lock.release();
  }
}

function setEntry(parts: Map<string, ManifestPartition>, k: ChunkMeta, table: string, e: ManifestEntry): void {
  let p = parts.get(k.path);
  if (!p || p.chunkId !== k.chunkId) parts.set(k.path, (p = { path: k.path, chunkId: k.chunkId, tables: nameMap() }));
  p.tables[table] = e;
}

export const repoDirOf = (backupDir: string, dbPath: string) => path.join(backupDir, dbNameOf(dbPath));
