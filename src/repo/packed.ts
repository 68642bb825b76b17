import { corrupt, notFound, usage } from '../common/errors.js';
import { backendFor, type Backend, type BackendSpec } from './backend/index.js';
import { codecFor, type BlobCodec, type BlobCodecSpec } from './codec/index.js';
import { isPointId, parseManifest, resolvePointId, resolvePointIn, type Manifest, type ManifestEntry, type ManifestHead, type ManifestPartition, type ManifestToWrite } from './manifest.js';
import { pickPointRead, scanPointRead, type Pick } from './manifest-scan.js';
import { foreignPacks, indexObject, isPackId, packObject, toManifestEntry, validatePackIndex, type PackIndex, type PackedEntry } from './pack-format.js';
import type { JournalRecord, JournalRecords } from './journal.js';
import type { ForeignSizes } from './pack-readers.js';
import { sealJson, sealJsonRuns, unsealJsonBytes } from './sealed-json.js';
import { EntryTable, type EntryLocation } from './entry-table.js';
import { addPackIndex } from './pack-index-read.js';
import { entryUrl } from '../common/entry-points.js';

export type { EntryLocation };

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
  private table: EntryTable | undefined;
  private indexes: Map<string, PackIndex> | undefined;
  /** The indexes this run wrote before the table was read, in order (rememberPack). */
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

  /** A point object's bytes, opened (decrypted and checked by the codec), and what to call it. */
  private openPoint(id: string): { buf: Buffer; file: string } {
    const { name, file } = this.pointObject(id);
    const bytes = this.backend.read(name);
    if (bytes === undefined) throw notFound(`restore point ${id} does not exist in ${this.backendSpec.root}`);
    const open = this.codec.openObject(bytes);
    return { buf: Buffer.from(open.buffer, open.byteOffset, open.byteLength), file };
  }

  private pointObject(id: string): { name: string; file: string } {
    if (!isPointId(id)) throw usage(`bad restore point id "${id}"`);
    const name = `points/${id}.json`;
    return { name, file: `${this.backendSpec.root}/${name}` };
  }

  /**
   * A point read through `read(buf, position)` for `use`, as a local point file is read: in place
   * when it can be (pointsInPlace; at 100,000 partitions x 2 tables a point is 97 MB, and read
   * whole, its buffer's page faults and copies were a third of `list`), else opened whole.
   */
  private withPoint<T>(id: string, use: (read: (buf: Buffer, position: number) => number, file: string) => T): T {
    if (!this.pointsInPlace) {
      const { buf, file } = this.openPoint(id);
      return use((dst, pos) => (pos < buf.length ? buf.copy(dst, 0, pos) : 0), file);
    }
    const { name, file } = this.pointObject(id);
    const r = this.backend.open(name);
    if (r === undefined) throw notFound(`restore point ${id} does not exist in ${this.backendSpec.root}`);
    try {
      return use((dst, pos) => {
        const n = Math.min(dst.length, r.size - pos);
        if (n <= 0) return 0;
        r.readAt(dst, pos, n);
        return n;
      }, file);
    } finally {
      r.close();
    }
  }

  /** A plain point on the local backend is read and written a piece at a time; an encrypted one is sealed whole (to be authenticated), an S3 one is one request. */
  private get pointsInPlace(): boolean {
    return this.backendSpec.kind === 'local' && this.codec.spec.encryption === 'none';
  }

  /** The latest point, or the one --as-of names, parsed whole. */
  resolve(asOf?: string): Manifest {
    const read = (id: string) => {
      const { buf, file } = this.openPoint(id);
      return parseManifest(buf, id, file);
    };
    return resolvePointIn(this.pointIds(), read, this.backendSpec.root, asOf);
  }

  /**
   * resolve() a partition at a time, as a local point file is scanned (manifest-scan.ts): the point
   * object is opened (decrypted) in memory and read through as lines, so each partition comes with
   * its line. An --as-of time reads only the candidates' heads, as pointIdIn does for local files.
   */
  scanPoint(asOf: string | undefined, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
    return this.scanPointId(this.pointIdOf(asOf), each);
  }

  /** The id of the latest point, or of the one --as-of names: a time reads only the candidates' heads. */
  private pointIdOf(asOf: string | undefined): string {
    return resolvePointId(this.pointIds(), (x) => this.scanPointId(x).created, this.backendSpec.root, asOf);
  }

  /** pickPoint of a local repository (manifest-scan.ts pickManifest): one pass, what `pick` kept of each partition. */
  pickPoint<T>(asOf: string | undefined, pick: Pick<T>): { head: ManifestHead; picked: T[] } {
    const id = this.pointIdOf(asOf);
    return this.withPoint(id, (read, file) => pickPointRead(read, id, file, pick));
  }

  /** scanPoint of the point `id`, one that pointIds() listed. */
  scanPointId(id: string, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
    return this.withPoint(id, (read, file) => scanPointRead(read, id, file, each));
  }

  /**
   * The commit point of a backup: the manifest object, durable and create-only, streamed out in
   * runs when pointsInPlace, else sealed whole from the runs' bytes. Made as one string, a point of
   * 100,000 partitions x 2 tables (97 MB) took 1.7 s of a no-change backup.
   */
  writePoint(m: ManifestToWrite): void {
    const name = `points/${m.pointId}.json`;
    if (!this.pointsInPlace) {
      const plain = Buffer.concat(Array.from(sealJsonRuns(m), (r) => Buffer.from(r, 'utf8')));
      return this.backend.write(name, this.codec.sealObject(plain), { createOnly: true });
    }
    const sink = this.backend.create(name);
    try {
      for (const r of sealJsonRuns(m)) sink.append(Buffer.from(r, 'utf8'));
    } catch (err) {
      sink.abort();
      throw err;
    }
    sink.commit();
  }

  /** Every pack index, verified; a malformed one is CORRUPT naming it. */
  packIndexes(): Map<string, PackIndex> {
    if (this.indexes) return this.indexes;
    const out = new Map<string, PackIndex>();
    for (const id of this.indexIds()) out.set(id, this.readPackIndex(id));
    return (this.indexes = out);
  }

  /** The ids of the listed index objects; one that is not a regular object is CORRUPT. */
  private indexIds(): string[] {
    const ids: string[] = [];
    for (const o of this.backend.list('index/')) {
      const id = o.name.slice('index/'.length);
      if (!isPackId(id)) continue; // temps and strays: check lists them, prune removes temps
      if (o.irregular) throw corrupt(`pack index ${o.name} in ${this.backendSpec.root} is a ${o.irregular}, not an object`);
      ids.push(id);
    }
    return ids;
  }

  readPackIndex(id: string): PackIndex {
    return validatePackIndex(unsealJsonBytes(this.packIndexBytes(id), this.packIndexName(id)), id, this.packIndexName(id));
  }
  private packIndexName(id: string): string {
    return `pack index ${this.backendSpec.root}/${indexObject(id)}`;
  }
  /** An index object's bytes, opened (decrypted and checked by the codec). */
  private packIndexBytes(id: string): Uint8Array {
    const bytes = this.backend.read(indexObject(id));
    if (bytes === undefined) throw notFound(`${this.packIndexName(id)} does not exist`);
    return this.codec.openObject(bytes);
  }

  /**
   * Every indexed entry (entry-table.ts), read on first use one index object at a time. Where two
   * packs hold a key (a repack or --force copy), the later index wins, and this run's packs last.
   */
  entries(): EntryTable {
    if (this.table) return this.table;
    const t = new EntryTable();
    const mine = new Set(this.remembered.map((ix) => ix.pack));
    for (const id of this.indexIds()) {
      if (mine.has(id)) continue;
      const held = this.indexes?.get(id);
      if (held) t.addPack(id, held.packSize, held.entries);
      else addPackIndex(t, this.packIndexBytes(id), id, this.packIndexName(id));
    }
    for (const ix of this.remembered) t.addPack(ix.pack, ix.packSize, ix.entries);
    this.remembered = [];
    return (this.table = t);
  }

  /** Where an entry is, as the pack indexes say (no check against a point: locate does that). */
  location(key: string): EntryLocation | undefined {
    return this.entries().location(key);
  }

  /**
   * The index as the journal of every run (every indexed entry is durable and may be referenced),
   * read on first use: a backup asks only for entries its previous point lacks, so a no-change
   * backup never loads the pack indexes (at 100,000 partitions x 3 tables they took it to 9.3 s
   * and 1.28 GB: bench-results/2026-11-28-scale-meta-100000-v2-s9.md).
   */
  journalRecords(): JournalRecords {
    const record = (key: string, l: EntryLocation): JournalRecord => ({ key, entry: toManifestEntry(l.entry) });
    const table = () => this.entries();
    return {
      get: (key) => {
        const l = table().location(key);
        return l && record(key, l);
      },
      *values() {
        const t = table();
        for (const key of t.keys()) yield record(key, t.location(key)!);
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
    this.indexes?.set(ix.pack, ix);
    if (this.table) this.table.addPack(ix.pack, ix.packSize, ix.entries);
    else this.remembered.push(ix);
  }

  /** Forgets what was read, after prune changed the index. */
  reload(): void {
    this.table = undefined;
    this.indexes = undefined;
    this.remembered = [];
  }

  /**
   * Where the manifest's entry is, refusing an index that disagrees with the manifest on any
   * file (name, size, checksum): the manifest decides what is restored, the index only where.
   */
  locate(key: string, e: ManifestEntry): EntryLocation | undefined {
    const loc = this.location(key);
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
      const size = this.entries().packSize(id);
      if (size !== undefined) out[id] = size;
    }
    return out;
  }

  /**
   * Where the live entry keys are found (an entry two packs hold counts only where the lookup finds
   * it): each pack's live keys and the bytes they take there; `pinned`, the packs foreign blobs of
   * live entries name (kept whole, never repacked). Prune plans from it; check needs only the ids.
   */
  packsInUse(live: Iterable<string>): { inPack: Map<string, { keys: string[]; stored: number }>; pinned: Set<string> } {
    const t = this.entries();
    const inPack = new Map<string, { keys: string[]; stored: number }>();
    const pinned = new Set<string>();
    for (const key of live) {
      const s = t.summary(key);
      if (!s) continue;
      const p = inPack.get(s.pack) ?? inPack.set(s.pack, { keys: [], stored: 0 }).get(s.pack)!;
      p.keys.push(key);
      p.stored += s.stored;
      if (s.foreign) for (const id of foreignPacks([t.location(key)!.entry])) pinned.add(id);
    }
    return { inPack, pinned };
  }

  packName(id: string): string {
    return packObject(id);
  }
}
