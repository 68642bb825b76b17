import { corrupt, notFound, usage } from '../common/errors.js';
import { backendFor, type Backend, type BackendSpec } from './backend/index.js';
import { codecFor, type BlobCodec, type BlobCodecSpec } from './codec/index.js';
import { isPointId, parseManifest, resolvePointId, resolvePointIn, type Manifest, type ManifestEntry, type ManifestHead, type ManifestPartition, type ManifestToWrite } from './manifest.js';
import { scanPointRead } from './manifest-scan.js';
import { foreignPacks, indexObject, isPackId, packObject, toManifestEntry, validatePackIndex, type PackIndex, type PackedEntry } from './pack-format.js';
import type { JournalRecord, JournalRecords } from './journal.js';
import type { ForeignSizes } from './pack-readers.js';
import { sealJson, unsealJsonBytes } from './sealed-json.js';
import { entryUrl } from '../common/entry-points.js';

/** Where one entry is stored: its pack, the pack's size as indexed, and its files' blobs. */
export interface EntryLocation {
  pack: string;
  packSize: number;
  entry: PackedEntry;
}

/** The module a copy worker imports to write and read packs (pack-task.ts). */
export const PACK_TASK = entryUrl('pack-task').href;

/**
 * Repository v2 seen through its backend: points, pack indexes and packs are objects; nothing
 * here builds a path. The index is read once (every `index/<packId>` object, each verified) and
 * extended as a backup records packs.
 */
export class PackedStore {
  readonly backend: Backend;
  readonly codec: BlobCodec;
  private index: Map<string, EntryLocation> | undefined;
  private indexes: Map<string, PackIndex> | undefined;
  /** The indexes this run wrote, in order (rememberPack). */
  private remembered: PackIndex[] = [];

  constructor(
    readonly backendSpec: BackendSpec,
    readonly codecSpec: BlobCodecSpec,
  ) {
    this.backend = backendFor(backendSpec);
    this.codec = codecFor(codecSpec);
  }

  pointIds(): string[] {
    return this.backend
      .list('points/')
      .map((o) => o.name.slice('points/'.length))
      .filter((n) => !n.includes('/') && n.endsWith('.json') && isPointId(n.slice(0, -5)))
      .map((n) => n.slice(0, -5));
  }

  readPoint(id: string): Manifest {
    const { buf, file } = this.openPoint(id);
    return parseManifest(buf, id, file);
  }

  /** A point object's bytes, opened (decrypted and checked by the codec), and what to call it. */
  private openPoint(id: string): { buf: Buffer; file: string } {
    if (!isPointId(id)) throw usage(`bad restore point id "${id}"`);
    const name = `points/${id}.json`;
    const bytes = this.backend.read(name);
    if (bytes === undefined) throw notFound(`restore point ${id} does not exist in ${this.backendSpec.root}`);
    const open = this.codec.openObject(bytes);
    return { buf: Buffer.from(open.buffer, open.byteOffset, open.byteLength), file: `${this.backendSpec.root}/${name}` };
  }

  resolve(asOf?: string): Manifest {
    return resolvePointIn(this.pointIds(), (id) => this.readPoint(id), this.backendSpec.root, asOf);
  }

  /**
   * resolve() a partition at a time, as a local point file is scanned (manifest-scan.ts): the point
   * object is opened (decrypted) in memory and read through as lines, so each partition comes with
   * its line. An --as-of time reads only the candidates' heads, as pointIdIn does for local files.
   */
  scanPoint(asOf: string | undefined, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
    const id = resolvePointId(this.pointIds(), (x) => this.scanPointId(x).created, this.backendSpec.root, asOf);
    return this.scanPointId(id, each);
  }

  /** scanPoint of the point `id`, one that pointIds() listed. */
  scanPointId(id: string, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
    const { buf, file } = this.openPoint(id);
    return scanPointRead((dst, pos) => (pos < buf.length ? buf.copy(dst, 0, pos) : 0), id, file, each);
  }

  /** The commit point of a backup: the manifest object, durable and create-only. */
  writePoint(m: ManifestToWrite): void {
    this.backend.write(`points/${m.pointId}.json`, this.codec.sealObject(Buffer.from(sealJson(m))), { createOnly: true });
  }

  /** Every pack index, verified; a malformed one is CORRUPT naming it. */
  packIndexes(): Map<string, PackIndex> {
    if (this.indexes) return this.indexes;
    const out = new Map<string, PackIndex>();
    for (const o of this.backend.list('index/')) {
      const id = o.name.slice('index/'.length);
      if (!isPackId(id)) continue; // temps and strays: check lists them, prune removes temps
      if (o.irregular) throw corrupt(`pack index ${o.name} in ${this.backendSpec.root} is a ${o.irregular}, not an object`);
      out.set(id, this.readPackIndex(id));
    }
    return (this.indexes = out);
  }

  readPackIndex(id: string): PackIndex {
    const what = `pack index ${this.backendSpec.root}/${indexObject(id)}`;
    const bytes = this.backend.read(indexObject(id));
    if (bytes === undefined) throw notFound(`${what} does not exist`);
    return validatePackIndex(unsealJsonBytes(this.codec.openObject(bytes), what), id, what);
  }

  /** Entry key → where it is. Where two packs hold a key (a repack or --force copy), the later index wins. */
  locations(): Map<string, EntryLocation> {
    if (this.index) return this.index;
    const out = new Map<string, EntryLocation>();
    const mine = new Set(this.remembered.map((ix) => ix.pack));
    const add = (id: string, ix: PackIndex) => ix.entries.forEach((e) => out.set(e.key, { pack: id, packSize: ix.packSize, entry: e }));
    for (const [id, ix] of this.packIndexes()) if (!mine.has(id)) add(id, ix);
    for (const ix of this.remembered) add(ix.pack, ix); // this run's last: they win
    return (this.index = out);
  }

  /**
   * The index as the journal of every run (every indexed entry is durable and may be referenced),
   * read on first use: a backup asks only for entries its previous point lacks, so a no-change
   * backup never loads the pack indexes (at 100,000 partitions x 3 tables they took it to 9.3 s
   * and 1.28 GB: bench-results/2026-11-28-scale-meta-100000-v2-s9.md).
   */
  journalRecords(): JournalRecords {
    const record = (key: string, l: EntryLocation): JournalRecord => ({ key, entry: toManifestEntry(l.entry) });
    const locations = () => this.locations();
    return {
      get: (key) => {
        const l = locations().get(key);
        return l && record(key, l);
      },
      *values() {
        for (const [key, l] of locations()) yield record(key, l);
      },
    };
  }

  /**
   * Records a durable pack: its index object is written (durable, create-only) only after the
   * pack itself is durable, and before any point may name its entries.
   */
  recordPack(ix: PackIndex): void {
    this.backend.write(indexObject(ix.pack), this.codec.sealObject(Buffer.from(sealJson(ix))), { createOnly: true });
    this.rememberPack(ix);
  }

  /**
   * Adds an index already durable in the repository (a backup's workers write them:
   * pack-index-write.ts). This run's packs win over older ones that hold the same key (a --force
   * copy), also when the indexes are first read after some were added (they are read lazily).
   */
  rememberPack(ix: PackIndex): void {
    this.remembered.push(ix);
    this.indexes?.set(ix.pack, ix);
    for (const e of ix.entries) this.index?.set(e.key, { pack: ix.pack, packSize: ix.packSize, entry: e });
  }

  /** Forgets what was read, after prune changed the index. */
  reload(): void {
    this.index = undefined;
    this.indexes = undefined;
    this.remembered = [];
  }

  /**
   * Where the manifest's entry is, refusing an index that disagrees with the manifest on any
   * file (name, size, checksum): the manifest decides what is restored, the index only where.
   */
  locate(key: string, e: ManifestEntry): EntryLocation | undefined {
    const loc = this.locations().get(key);
    if (!loc) return undefined;
    const files = loc.entry.files;
    if (files.length !== e.files.length || e.files.some((f, i) => files[i]!.name !== f.name || files[i]!.size !== f.size || files[i]!.xxh3 !== f.xxh3))
      throw corrupt(`the pack index of ${key} (pack ${loc.pack}) does not describe the files its restore point lists`);
    return loc;
  }

  /** The sizes of the foreign packs the entries' blobs name, as their indexes say; a pack no index names is left out (its blobs read as missing). */
  foreignSizes(entries: PackedEntry[]): ForeignSizes {
    const out: ForeignSizes = {};
    for (const id of foreignPacks(entries)) {
      const ix = this.packIndexes().get(id);
      if (ix) out[id] = ix.packSize;
    }
    return out;
  }

  /**
   * Which packs the live entry keys keep: `entries`, pack → its entries that are live there (an
   * entry two packs hold counts only where the index lookup finds it); `foreign`, the packs the
   * blobs of those entries name as foreign. A foreign-referenced pack is kept whole, never repacked.
   */
  packsInUse(live: ReadonlySet<string>): { entries: Map<string, PackedEntry[]>; foreign: Set<string> } {
    const where = this.locations();
    const entries = new Map<string, PackedEntry[]>();
    for (const [id, ix] of this.packIndexes()) {
      const keep = ix.entries.filter((e) => live.has(e.key) && where.get(e.key)?.pack === id);
      if (keep.length) entries.set(id, keep);
    }
    return { entries, foreign: foreignPacks([...entries.values()].flat()) };
  }

  packName(id: string): string {
    return packObject(id);
  }
}
