import { notFound, usage } from '../common/errors.js';
import { mbPerSec, stopwatch } from '../common/units.js';
import { applyDefaults, diskOf, type CopyPipeline } from '../io/index.js';
import type { PasswordSource } from '../repo/config.js';
import { entryKey, type Manifest } from '../repo/manifest.js';
import { runWithAgents } from '../repo/backend/index.js';
import { numberWidth } from '../store/index.js';
import { COPY_PACK_TASK, type CopyPackTask } from '../repo/pack-copy-task.js';
import { foreignPacks, newPackId, type PackedEntry } from '../repo/pack-format.js';
import { RECODE_PACK_TASK, type RecodePackTask } from '../repo/pack-recode-task.js';
import type { BlobCodecSpec } from '../repo/codec/index.js';
import type { PackedStore } from '../repo/packed.js';
import { Repository, listRepositories } from '../repo/repository.js';
import { isNewDirectory, once } from '../repo/settings.js';
import { defaultHolder, runLimited, withPipeline, type OperationOptions } from './options.js';

export interface CopyOptions extends OperationOptions {
  /** Source backup directory or s3://bucket/prefix; `password` (OperationOptions) is its password. */
  src: string;
  /** Target backup directory or s3://bucket/prefix (repositories there are created as v2). */
  dst: string;
  /** The target's password: opens an encrypted target, or makes a new target encrypted. */
  toPassword?: PasswordSource;
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
  /** Packs sent (written at the target), and source packs whose needed entries the target already held. */
  packs: number;
  packsSkipped: number;
  /** Bytes written at the target. */
  bytes: number;
  /** Whether packs moved verbatim (same codec and key) or were re-encoded for the target. */
  recoded: boolean;
  seconds: number;
  mbPerSec: number;
}

interface Passwords {
  src: PasswordSource;
  dst: PasswordSource;
}

/**
 * Copies restore points between repositories (local or S3, either way; restic copy,
 * clickhouse-backup upload/download), incrementally (docs/CLI.md, "copy"): an entry the target's
 * index already holds with the same files (name, size, plain xxh3) is not sent. When both use the
 * same codec (compression, encryption and master key) packs move verbatim; otherwise the entries
 * are decoded with the source's key and encoded with the target's into new packs. Order per
 * database: packs (each durable, then indexed), then points: a point at the target names only indexed data.
 */
export async function copyPoints(o: CopyOptions): Promise<CopyResult> {
  const took = stopwatch();
  // Each password read once, however many databases are copied.
  const pw: Passwords = { src: once(o.password), dst: once(o.toPassword) };
  const dbs = o.dbPath ? [o.dbPath] : listRepositories(o.src, { password: pw.src });
  if (!dbs.length) throw notFound(`no database backups in ${o.src}`);
  if (o.point !== undefined && !o.dbPath) throw usage('--point needs a dbPath');
  const copying = applyDefaults('copy', o);
  const total: CopyResult = { databases: dbs.length, points: 0, pointsSkipped: 0, packs: 0, packsSkipped: 0, bytes: 0, recoded: false, seconds: 0, mbPerSec: 0 };
  for (const db of dbs) {
    const r = await copyDatabase(o, db, copying, pw);
    for (const k of ['points', 'pointsSkipped', 'packs', 'packsSkipped', 'bytes'] as const) total[k] += r[k];
    total.recoded ||= r.recoded;
  }
  total.seconds = took();
  total.mbPerSec = mbPerSec(total.bytes, total.seconds);
  return total;
}

type Counts = Pick<CopyResult, 'points' | 'pointsSkipped' | 'packs' | 'packsSkipped' | 'bytes' | 'recoded'>;

/** Packs move verbatim only between repositories that store blobs alike, under the same key. */
const sameCodec = (a: BlobCodecSpec, b: BlobCodecSpec) => a.compression === b.compression && a.encryption === b.encryption && a.masterKey === b.masterKey;

/** Both repositories, opened (and their keys) before anything is written: a wrong password changes nothing. */
function openBoth(o: CopyOptions, db: string, pw: Passwords): { src: Repository & { packs: PackedStore }; dst: Repository & { packs: PackedStore } } {
  const src = Repository.open(o.src, db, false, undefined, { password: pw.src });
  if (!src.packs) throw usage(`${src.dir} is a v1 repository: copy moves packs (v2); make it with backup --repo-format 2`);
  // Decrypting into a new target by accident (a forgotten target password) would publish plaintext.
  if (src.packs.codecSpec.encryption !== 'none' && !pw.dst() && isNewDirectory(o.dst))
    throw usage(`${o.src} is encrypted: give the target's password (CHUNKVAULT_TO_PASSWORD, --to-password-file or --to-password-command), or make an unencrypted target first with repo init --encryption none`);
  const dst = Repository.open(o.dst, db, true, 2, { password: pw.dst });
  if (!dst.packs) throw usage(`${dst.dir} is a v1 repository: copy writes packs (v2) only`);
  return { src: src as Repository & { packs: PackedStore }, dst: dst as Repository & { packs: PackedStore } };
}

async function copyDatabase(o: CopyOptions, db: string, copying: ReturnType<typeof applyDefaults>, pw: Passwords): Promise<Counts> {
  const { src, dst } = openBoth(o, db, pw);
  const verbatim = sameCodec(src.packs.codecSpec, dst.packs.codecSpec);
  const lock = dst.lock(o.holder ?? defaultHolder());
  try {
    const have = new Set(dst.points());
    const ids = o.point !== undefined ? [src.point(o.point).pointId] : src.points();
    const todo: Manifest[] = ids.filter((id) => !have.has(id)).map((id) => src.point(id));
    const { send, needed, first, widths } = planCopy(src, dst, todo, verbatim);
    const queues = [src.ioQueue ?? diskOf(src.dir), dst.ioQueue ?? diskOf(dst.dir)];
    const counts: Counts = { points: 0, pointsSkipped: ids.length - todo.length, packs: 0, packsSkipped: needed - send.size, bytes: 0, recoded: !verbatim };
    const packs = [...send];
    const srcIndexes = src.packs.packIndexes();
    // Progress counts what the workers report: a verbatim pack's stored bytes, a re-encoded entry's plain bytes.
    const totalBytes = packs.reduce((a, [pack, entries]) => a + (verbatim ? srcIndexes.get(pack)!.packSize : entries.reduce((b, e) => b + e.bytes, 0)), 0);
    // Foreign packs first: an index may name a foreign pack only once that pack's index is durable.
    const waves = [packs.filter(([p]) => first.has(p)), packs.filter(([p]) => !first.has(p))];
    await withPipeline(copying, o.observer, totalBytes, async (pipe) => {
      for (const wave of waves)
        await runLimited(wave, copying.inFlight, async ([pack, entries]) => {
          const res = verbatim ? await sendVerbatim(pipe, src.packs, dst.packs, pack, queues) : await sendRecoded(pipe, src.packs, dst.packs, pack, entries, queues, widths);
          counts.packs += res.skipped ? 0 : 1;
          counts.packsSkipped += res.skipped ? 1 : 0;
          counts.bytes += res.bytes;
        });
    });
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

/**
 * What to send: per source pack, the entries the points need that the target lacks (an entry the
 * target indexes with other files is CORRUPT: locate). Verbatim, a pack the target holds under
 * its id is not sent either. `needed`: how many source packs the points reference. Verbatim, the
 * foreign packs a sent pack's blobs name are sent too, whole, in a first wave (`first`); recoded,
 * foreign blobs are inlined into the new pack instead, and `widths` says, per entry key and file,
 * the width of the numbers it holds (store numberWidth), which the re-encoding shuffles by.
 */
function planCopy(src: Repository & { packs: PackedStore }, dst: Repository & { packs: PackedStore }, todo: Manifest[], verbatim: boolean): { send: Map<string, PackedEntry[]>; needed: number; first: Set<string>; widths: Map<string, Widths> } {
  const heldPacks = dst.packs.packIndexes();
  const send = new Map<string, Map<string, PackedEntry>>();
  const needed = new Set<string>();
  const widths = new Map<string, Widths>();
  for (const m of todo)
    for (const p of m.partitions)
      for (const [table, e] of Object.entries(p.tables)) {
        const key = entryKey(p.chunkId, table, e.cid);
        const loc = src.packs.locate(key, e);
        if (!loc) throw notFound(`${src.dir}: restore point ${m.pointId} names ${key}, which no pack index holds`);
        needed.add(loc.pack);
        if (dst.packs.locate(key, e) || (verbatim && heldPacks.has(loc.pack))) continue;
        if (!send.has(loc.pack)) send.set(loc.pack, new Map());
        send.get(loc.pack)!.set(key, loc.entry);
        const schema = m.tables[table]?.schema;
        if (!verbatim && schema) widths.set(key, loc.entry.files.map((f) => numberWidth(m.engine, schema, f.name)));
      }
  const first = new Set<string>();
  if (verbatim) {
    // A verbatim pack is copied with its whole index: every foreign pack any of its entries names must be there.
    const ixs = src.packs.packIndexes();
    for (let todoPacks = [...send.keys()]; todoPacks.length; ) {
      const named = [...foreignPacks(todoPacks.flatMap((p) => ixs.get(p)?.entries ?? []))].filter((p) => !heldPacks.has(p) && !send.has(p) && !first.has(p));
      for (const p of named) {
        if (!ixs.has(p)) throw notFound(`${src.dir}: pack ${p}, which a pack it copies names, has no index: run check`);
        first.add(p);
        send.set(p, new Map());
      }
      todoPacks = named;
    }
  }
  return { send: new Map([...send].map(([pack, entries]) => [pack, [...entries.values()]])), needed: needed.size, first, widths };
}

type Sent = { bytes: number; skipped: boolean };
type Widths = RecodePackTask['widths'][number];

/** The whole pack, byte for byte, then its index as the source has it. */
async function sendVerbatim(pipe: CopyPipeline, src: PackedStore, dst: PackedStore, pack: string, queues: string[]): Promise<Sent> {
  const ix = src.packIndexes().get(pack)!;
  const task: CopyPackTask = { src: src.backendSpec, dst: dst.backendSpec, pack, packSize: ix.packSize };
  const res = await runWithAgents<Sent>(pipe, COPY_PACK_TASK, task, queues);
  dst.recordPack(ix);
  return res;
}

/** The needed entries of one source pack, re-encoded for the target into a new pack, then its index. */
async function sendRecoded(pipe: CopyPipeline, src: PackedStore, dst: PackedStore, pack: string, entries: PackedEntry[], queues: string[], widths: Map<string, Widths>): Promise<Sent> {
  const newPack = newPackId();
  const packSize = src.packIndexes().get(pack)!.packSize;
  const task: RecodePackTask = { src: src.backendSpec, srcCodec: src.codecSpec, dst: dst.backendSpec, dstCodec: dst.codecSpec, pack, packSize, foreign: src.foreignSizes(entries), entries, newPack, widths: entries.map((e) => widths.get(e.key) ?? []) };
  const res = await runWithAgents<{ packSize: number; entries: PackedEntry[] }>(pipe, RECODE_PACK_TASK, task, queues);
  dst.recordPack({ format: 1, pack: newPack, packSize: res.packSize, entries: res.entries });
  return { bytes: res.packSize, skipped: false };
}
