import { collectGarbage } from '../common/collect-garbage.js';
import { nameMap } from '../common/json.js';
import type { ManifestEntry, ManifestHead, ManifestPartition, ManifestTotals } from '../repo/manifest.js';
import { PartitionLines } from '../repo/partition-lines.js';
import type { Repository } from '../repo/repository.js';
import { RawJson } from '../repo/sealed-json.js';

/**
 * A partition of the previous point carried into the next one, kept as its verified line until the
 * backup changes it (issue 14). A no-change backup of 100,000 partitions compares cids and writes
 * the lines back as they were read: it never holds the previous point's 1.2 million file entries
 * as objects. Asking for `tables` parses the line once; from then on the partition is written
 * from its objects.
 */
export class CarriedPartition implements ManifestPartition {
  private own: Record<string, ManifestEntry> | undefined;
  constructor(
    readonly path: string,
    readonly chunkId: string,
    /** Per table as read: cid and bytes. */
    private readonly read: Record<string, readonly [number, number]>,
    private readonly lines: PartitionLines,
    private readonly index: number,
  ) {}

  get tables(): Record<string, ManifestEntry> {
    return (this.own ??= nameMap(this.lines.at(this.index).tables));
  }

  /** The cid of a table's entry, or undefined: without parsing the line while it is untouched. */
  cid(table: string): number | undefined {
    return this.own ? this.own[table]?.cid : this.read[table]?.[0];
  }

  tableNames(): string[] {
    return Object.keys(this.own ?? this.read);
  }

  /** True while its entries are the ones read (same tables, same cids). */
  unchanged(): boolean {
    if (!this.own) return true;
    const now = Object.keys(this.own);
    return now.length === Object.keys(this.read).length && now.every((t) => this.own![t]!.cid === this.read[t]?.[0]);
  }

  /** What the next manifest writes: the line as read while untouched. */
  written(): ManifestPartition | RawJson {
    return this.own ? { path: this.path, chunkId: this.chunkId, tables: this.own } : new RawJson(() => this.lines.text(this.index));
  }

  /** Each entry as (table, cid, bytes), without parsing the line while it is untouched. */
  entries(): [string, number, number][] {
    if (this.own) return Object.entries(this.own).map(([t, e]) => [t, e.cid, e.bytes]);
    return Object.entries(this.read).map(([t, [cid, bytes]]) => [t, cid, bytes]);
  }
}

const entriesOf = (p: ManifestPartition): [string, number, number][] => (p instanceof CarriedPartition ? p.entries() : Object.entries(p.tables).map(([t, e]) => [t, e.cid, e.bytes]));

export interface PreviousPoint {
  head: ManifestHead;
  parts: Map<string, ManifestPartition>;
}

/**
 * The latest point's head and its partitions by path, carried (undefined when the repository has
 * none). One pass of summaries (manifest-scan.ts pickPoint: no object per file, each line checked
 * as it is hashed), each partition kept as its line: at 100,000 partitions x 2 tables the
 * two-pass scan that parsed every line whole was 5.3 s of a 7.5 s no-change backup (profiled).
 */
export function readPrevious(repo: Repository): PreviousPoint | undefined {
  if (!repo.points().length) return undefined;
  let lines = new PartitionLines();
  let parts = new Map<string, ManifestPartition>();
  const { head } = repo.pickPoint(undefined, (p, line) => {
    // A path met again means the file is being read a second way (not in the written layout): start over.
    if (parts.has(p.path)) [lines, parts] = [new PartitionLines(), new Map()];
    const read = nameMap<readonly [number, number]>();
    for (const [t, e] of Object.entries(p.tables)) read[t] = [e.cid, e.bytes];
    parts.set(p.path, new CarriedPartition(p.path, p.chunkId, read, lines, lines.length));
    if (line) lines.addLine(line);
    else lines.add(p as ManifestPartition); // read whole: a whole partition
    return undefined;
  });
  // The scan's garbage is collected before the catalog's pin lands on it. 100,000 x 3: peak RSS
  // of the no-change backup 262-275 -> 254-255 MiB, same wall time.
  collectGarbage();
  return { head, parts };
}

export const tableNamesOf = (p: ManifestPartition) => (p instanceof CarriedPartition ? p.tableNames() : Object.keys(p.tables));
export const cidOf = (p: ManifestPartition, table: string) => (p instanceof CarriedPartition ? p.cid(table) : p.tables[table]?.cid);

/**
 * How a v2 backup counts what its point stores: `previous`, the previous point's bytesStored (a
 * point of only its untouched partitions stores what it stored, and the pack indexes are not
 * read); `of`, an entry's stored bytes as the index says (engine: Repository.storedBytes).
 */
export interface StoredCount {
  previous: ManifestTotals | undefined;
  of(chunkId: string, table: string, cid: number, bytes: number): number;
}

/** The new point's partitions in path order, as written, with their totals in front (v2: with `stored`, bytesStored too). */
export function writtenPartitions(parts: Iterable<ManifestPartition>, stored?: StoredCount): { totals: ManifestTotals; partitions: (ManifestPartition | RawJson)[] } {
  const kept = [...parts].filter((p) => tableNamesOf(p).length).sort((a, b) => (a.path < b.path ? -1 : 1));
  const totals: ManifestTotals = { partitions: 0, entries: 0, bytes: 0 };
  for (const p of kept) {
    totals.partitions++;
    for (const [, , bytes] of entriesOf(p)) {
      totals.entries++;
      totals.bytes += bytes;
    }
  }
  if (stored) totals.bytesStored = storedTotal(kept, totals, stored);
  return { totals, partitions: kept.map((p) => (p instanceof CarriedPartition ? p.written() : p)) };
}

function storedTotal(kept: ManifestPartition[], totals: ManifestTotals, stored: StoredCount): number {
  const prev = stored.previous;
  const untouched = kept.every((p) => p instanceof CarriedPartition && p.unchanged());
  if (untouched && prev?.bytesStored !== undefined && prev.entries === totals.entries && prev.partitions === totals.partitions) return prev.bytesStored;
  let sum = 0;
  for (const p of kept) for (const [t, cid, bytes] of entriesOf(p)) sum += stored.of(p.chunkId, t, cid, bytes);
  return sum;
}
