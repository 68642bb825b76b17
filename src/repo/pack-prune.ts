import { corrupt } from '../common/errors.js';
import { newXxh3, toHex } from '../io/index.js';
import { keysInto } from './manifest-scan.js';
import { decodeBlob, foreignPacks, isPackId, newPackId, packHeader, packObject, PACK_HEADER_BYTES, type PackIndex, type PackedEntry } from './pack-format.js';
import type { PackedStore } from './packed.js';

/**
 * Prune of a repository v2 (restic's prune): PlanPrune reads and verifies every kept point and
 * every pack index first (a malformed repository changes nothing), then Execute removes in the
 * order the durability rules ask. A pack whose every entry is unreferenced is removed; packs
 * partly unreferenced are repacked, most wasteful first, while the unused share of all pack bytes
 * is above `maxUnused` (restic's --max-unused).
 */
export const DEFAULT_MAX_UNUSED = 0.1;

export interface PackPrunePlan {
  keptPoints: string[];
  removedPoints: string[];
  /** Packs (and their indexes) holding nothing a kept point references. */
  packsRemoved: string[];
  /** Partly used packs to rewrite with only their referenced entries. */
  repack: { pack: string; packSize: number; keep: PackedEntry[] }[];
  /** Objects no index explains: packs of a killed run, temps. */
  orphans: string[];
  unusedBytes: number;
  packBytes: number;
}

export function planPackPrune(store: PackedStore, keep: number | ReadonlySet<string>, maxUnused = DEFAULT_MAX_UNUSED): PackPrunePlan {
  if (!(maxUnused >= 0 && maxUnused <= 1)) throw corrupt(`internal: maxUnused ${maxUnused} outside [0, 1]`);
  const ids = store.pointIds();
  const kept = typeof keep === 'number' ? new Set(ids.slice(-keep)) : keep;
  const keptPoints = ids.filter((id) => kept.has(id));
  const removedPoints = ids.filter((id) => !kept.has(id));
  // Kept points scanned as summaries, the index as its entry table: at 100,000 partitions, read
  // whole they were ~1 GB of objects per point and ~1 GB for the indexes (entry-table.ts).
  const live = new Set<string>();
  for (const id of keptPoints) store.pickPoint(id, keysInto(live));
  const table = store.entries();
  const { inPack, pinned } = store.packsInUse(live);
  const packsRemoved: string[] = [];
  const partial: { pack: string; packSize: number; keys: string[]; unused: number }[] = [];
  let packBytes = 0;
  for (const { id, size } of table.packList()) {
    const keep = inPack.get(id);
    // A pack a kept foreign blob names stays whole: repacking would move that blob from under the reference.
    if (!keep && !pinned.has(id)) {
      packsRemoved.push(id);
      continue;
    }
    const used = PACK_HEADER_BYTES + (keep?.stored ?? 0);
    packBytes += size;
    // A pinned pack counts as used whole: its bytes under foreign references are not in `used`.
    if (!pinned.has(id) && used < size) partial.push({ pack: id, packSize: size, keys: keep?.keys ?? [], unused: size - used });
  }
  const orphans = orphanObjects(store);
  partial.sort((a, b) => b.unused / b.packSize - a.unused / a.packSize);
  let unusedBytes = partial.reduce((a, p) => a + p.unused, 0);
  const repack: PackPrunePlan['repack'] = [];
  for (const p of partial) {
    if (unusedBytes <= maxUnused * packBytes) break;
    repack.push({ pack: p.pack, packSize: p.packSize, keep: p.keys.map((k) => table.location(k)!.entry) });
    unusedBytes -= p.unused;
  }
  return { keptPoints, removedPoints, packsRemoved, repack, orphans, unusedBytes, packBytes };
}

/** Packs no index names and temps left by a killed write; anything that is not an object is CORRUPT, before anything is removed. */
function orphanObjects(store: PackedStore): string[] {
  const table = store.entries();
  const out: string[] = [];
  for (const prefix of ['packs/', 'index/', 'points/']) {
    for (const o of store.backend.list(prefix)) {
      if (o.irregular) throw corrupt(`${store.backendSpec.root}/${o.name} is a ${o.irregular}, not a repository object: remove it by hand`);
      const base = o.name.split('/').at(-1)!;
      if (base.startsWith('.tmp-')) out.push(o.name);
      else if (prefix === 'packs/' && isPackId(base) && o.name === packObject(base) && table.packSize(base) === undefined) out.push(o.name);
    }
  }
  return out;
}

/**
 * Manifests go first, durably; then every repacked pack is written and indexed (durable) before
 * any index is removed; indexes go before their packs. A crash anywhere leaves either a second
 * valid copy of some entries or packs no index names, which the next prune removes.
 */
export function executePackPrune(store: PackedStore, plan: PackPrunePlan): void {
  const b = store.backend;
  for (const id of plan.removedPoints) b.remove(`points/${id}.json`);
  for (const r of plan.repack) repackOne(store, r.pack, r.packSize, r.keep);
  for (const id of [...plan.packsRemoved, ...plan.repack.map((r) => r.pack)]) b.remove(`index/${id}`);
  for (const id of [...plan.packsRemoved, ...plan.repack.map((r) => r.pack)]) b.remove(packObject(id));
  for (const name of plan.orphans) b.remove(name);
  store.reload();
}

/** Copies the stored bytes of `keep` into a new pack, each blob verified (decoded and hashed) on the way. */
function repackOne(store: PackedStore, oldId: string, oldSize: number, keep: PackedEntry[]): void {
  const reader = store.backend.open(packObject(oldId));
  if (!reader || reader.size !== oldSize) throw corrupt(`pack ${oldId} is missing or not the size its index says: run check; prune leaves it as it is`);
  const id = newPackId();
  const sink = store.backend.create(packObject(id));
  try {
    sink.append(packHeader());
    const entries = keep.map((e) => ({
      ...e,
      files: e.files.map((f) => ({
        ...f,
        blobs: f.blobs.map((x) => {
          // A foreign blob stays where it is (its pack is pinned by this reference): only the record moves.
          if (x.pack !== undefined) return x;
          const stored = new Uint8Array(x.length);
          const plain = decodeBlob(reader, x, store.codec, stored);
          const h = newXxh3();
          h.update(plain);
          if (toHex(h.digest()) !== x.xxh3) throw corrupt(`pack ${oldId}: a blob of ${e.key}/${f.name} does not match its checksum; prune stops, run check`);
          const offset = sink.size;
          sink.append(stored);
          return { ...x, offset };
        }),
      })),
    }));
    sink.commit();
    const ix: PackIndex = { format: foreignPacks(entries).size ? 2 : 1, pack: id, packSize: sink.size, entries };
    store.recordPack(ix);
  } catch (err) {
    sink.abort();
    throw err;
  } finally {
    reader.close();
  }
}
