import { notFound, usage } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { applyDefaults, diskOf } from '../io/index.js';
import { entryKey, type Manifest } from '../repo/manifest.js';
import { COPY_PACK_TASK, type CopyPackTask } from '../repo/pack-copy-task.js';
import { Repository, listRepositories } from '../repo/repository.js';
import { defaultHolder, runLimited, withPipeline, type OperationOptions } from './options.js';

export interface CopyOptions extends OperationOptions {
  /** Source backup directory or s3://bucket/prefix. */
  src: string;
  /** Target backup directory or s3://bucket/prefix (repositories there are created as v2). */
  dst: string;
  /** One database (default: every database in src). */
  dbPath?: string;
  /** One restore point (id or unique prefix, as --as-of); default: every point the target lacks. */
  point?: string;
}

export interface CopyResult {
  databases: number;
  /** Restore points written at the target, and those it already had. */
  points: number;
  pointsSkipped: number;
  /** Packs sent, and packs the target already held (not sent again). */
  packs: number;
  packsSkipped: number;
  bytes: number;
  seconds: number;
  mbPerSec: number;
}

/**
 * Copies restore points between repositories (local or S3, either way; restic copy,
 * clickhouse-backup upload/download), incrementally: an entry the target already indexes is not
 * sent, nor is a pack the target already holds. Packs move verbatim, so both repositories must
 * use the same codec (and no encryption: keys differ per repository). Order per database: packs
 * (each durable, then indexed), then points: a point at the target names only indexed data.
 */
export async function copyPoints(o: CopyOptions): Promise<CopyResult> {
  const took = stopwatch();
  const dbs = o.dbPath ? [o.dbPath] : listRepositories(o.src);
  if (!dbs.length) throw notFound(`no database backups in ${o.src}`);
  if (o.point !== undefined && !o.dbPath) throw usage('--point needs a dbPath');
  const copying = applyDefaults('copy', o);
  const total: CopyResult = { databases: dbs.length, points: 0, pointsSkipped: 0, packs: 0, packsSkipped: 0, bytes: 0, seconds: 0, mbPerSec: 0 };
  for (const db of dbs) {
    const r = await copyDatabase(o, db, copying);
    for (const k of ['points', 'pointsSkipped', 'packs', 'packsSkipped', 'bytes'] as const) total[k] += r[k];
  }
  total.seconds = took();
  total.mbPerSec = mbPerSec(total.bytes, total.seconds);
  return total;
}

type Counts = Pick<CopyResult, 'points' | 'pointsSkipped' | 'packs' | 'packsSkipped' | 'bytes'>;

async function copyDatabase(o: CopyOptions, db: string, copying: ReturnType<typeof applyDefaults>): Promise<Counts> {
  const src = Repository.open(o.src, db, false);
  if (!src.packs) throw usage(`${src.dir} is a v1 repository: copy moves packs (v2); make it with backup --repo-format 2`);
  const dst = Repository.open(o.dst, db, true, 2);
  if (!dst.packs) throw usage(`${dst.dir} is a v1 repository: copy writes packs (v2) only`);
  const [sc, dc] = [src.packs.codecSpec, dst.packs.codecSpec];
  if (sc.encryption !== 'none' || dc.encryption !== 'none' || sc.compression !== dc.compression)
    throw usage(`copy moves packs verbatim: ${src.dir} (${sc.compression}, ${sc.encryption}) and ${dst.dir} (${dc.compression}, ${dc.encryption}) must have the same compression and no encryption`);
  const lock = dst.lock(o.holder ?? defaultHolder());
  try {
    const have = new Set(dst.points());
    const ids = o.point !== undefined ? [src.point(o.point).pointId] : src.points();
    const todo: Manifest[] = ids.filter((id) => !have.has(id)).map((id) => src.point(id));
    const held = dst.packs.locations();
    const heldPacks = dst.packs.packIndexes();
    const send = new Map<string, number>();
    const needed = new Set<string>();
    for (const m of todo)
      for (const p of m.partitions)
        for (const [table, e] of Object.entries(p.tables)) {
          const key = entryKey(p.chunkId, table, e.cid);
          const loc = src.packs.locate(key, e);
          if (!loc) throw notFound(`${src.dir}: restore point ${m.pointId} names ${key}, which no pack index holds`);
          needed.add(loc.pack);
          if (!held.has(key) && !heldPacks.has(loc.pack)) send.set(loc.pack, loc.packSize);
        }
    const queues = [src.ioQueue ?? diskOf(src.dir), dst.ioQueue ?? diskOf(dst.dir)];
    const counts: Counts = { points: 0, pointsSkipped: ids.length - todo.length, packs: 0, packsSkipped: needed.size - send.size, bytes: 0 };
    const packs = [...send];
    const totalBytes = packs.reduce((a, [, n]) => a + n, 0);
    await withPipeline(copying, o.observer, totalBytes, (pipe) =>
      runLimited(packs, copying.inFlight, async ([pack, packSize]) => {
        const task: CopyPackTask = { src: src.packs!.backendSpec, dst: dst.packs!.backendSpec, pack, packSize };
        const res = await pipe.runModule<{ bytes: number; skipped: boolean }>(COPY_PACK_TASK, task, queues);
        dst.packs!.recordPack(src.packs!.packIndexes().get(pack)!);
        counts.packs += res.skipped ? 0 : 1;
        counts.packsSkipped += res.skipped ? 1 : 0;
        counts.bytes += res.bytes;
      }),
    );
    for (const m of todo.sort((a, b) => (a.pointId < b.pointId ? -1 : 1))) {
      lock.confirm?.();
      dst.commitPoint(m);
      counts.points++;
    }
    return counts;
  } finally {
    lock.release();
  }
}
