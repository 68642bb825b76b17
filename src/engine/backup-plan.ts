import { nameMap } from '../common/json.js';
import type { ChunkMeta, ChunkSummary, SummarySnapshot, TableDef } from '../store/index.js';
import { entryKey, type ManifestEntry, type ManifestHead, type ManifestPartition } from '../repo/manifest.js';
import { CarriedPartition, cidOf, tableNamesOf, type PreviousPoint } from './carried-point.js';
import type { Repository } from '../repo/repository.js';

/** One (partition, table) whose current version the repository lacks. */
export interface CopyJob {
  chunk: ChunkMeta;
  table: string;
}

/**
 * What a backup will do, decided from metadata alone before any byte moves: which entries to
 * copy, which to reference from the previous point or a dead run's journal, and what the new
 * point's partitions and tables are before the copies land.
 */
export interface BackupPlan {
  /** The previous point's head: its partitions are carried in `parts` (carried-point.ts). */
  prev: ManifestHead | undefined;
  toCopy: CopyJob[];
  /** One table name per (partition, table) referenced rather than copied. */
  skippedTables: string[];
  /** (partition, table) pairs in scope per table, for progress. */
  perTable: Map<string, number>;
  /** The new point's partitions so far; copies add their entries as they finish. */
  parts: Map<string, ManifestPartition>;
  manifestTables: Record<string, TableDef>;
  dropped: number;
  /** Journals a killed run left: removed once the new point is committed. */
  oldJournals: string[];
}

export interface PlanInput {
  repo: Repository;
  /** The latest point, read before the pin (readPrevious). */
  previous: PreviousPoint | undefined;
  /** Pinned with the file lists of every chunk `needsFiles` selects. */
  snapshot: SummarySnapshot;
  tables: string[];
  /** Partition paths to back up (a partial backup), or all. */
  wanted?: Set<string>;
  force?: boolean;
  keepDropped?: boolean;
}

export function planBackup(x: PlanInput): BackupPlan {
  const { repo, snapshot, tables } = x;
  const def = snapshot.def;
  const previous = x.previous;
  const prev = previous?.head;
  const { records: journaled, files: oldJournals } = repo.journals();
  // Every run opens its journal before it stages or replaces anything and deletes it only after
  // committing, so leftovers to clean up can exist only when a journal was left behind.
  if (oldJournals.length) repo.recover();

  // Start from the previous point: a partial backup (some tables or partitions) carries the rest over.
  const parts = previous?.parts ?? new Map<string, ManifestPartition>();
  const manifestTables = nameMap(prev?.tables);
  const dropped = !x.keepDropped && !x.wanted ? dropGone(parts, manifestTables, snapshot, tables) : 0;
  for (const t of tables) manifestTables[t] = def.tables[t]!;

  const toCopy: CopyJob[] = [];
  const skippedTables: string[] = [];
  const perTable = new Map(tables.map((t) => [t, 0]));
  for (const k of snapshot.chunks.filter((k) => !x.wanted || x.wanted.has(k.path))) {
    for (const t of tables) {
      const v = k.tables[t];
      if (!v) continue;
      perTable.set(t, perTable.get(t)! + 1);
      // Incremental by metadata: the previous point's entries are trusted (check verifies the
      // bytes); a dead run's journal is believed only where its data directory exists.
      // An entry the previous point holds is already in `parts`, carried as it was read.
      const inPoint = inPrevious(parts, k, t);
      const known = inPoint || !repo.hasData(k.chunkId, t, v.cid) ? undefined : journaled.get(entryKey(k.chunkId, t, v.cid))?.entry;
      if (!x.force && (inPoint || known)) {
        if (known) setEntry(parts, k, t, known);
        skippedTables.push(t);
      } else toCopy.push({ chunk: snapshot.full(k), table: t });
    }
  }
  return { prev, toCopy, skippedTables, perTable, parts, manifestTables, dropped, oldJournals };
}

const inPrevious = (parts: Map<string, ManifestPartition>, k: ChunkSummary, t: string) => {
  const old = parts.get(k.path);
  return old?.chunkId === k.chunkId && cidOf(old, t) === k.tables[t]?.cid;
};

/**
 * The chunks a backup must pin with their file lists (pinSummaries): those with a table, of
 * `tables` (undefined: any, so a table created before the pin is covered), whose version the
 * previous point lacks; every chunk with `force`. A superset of planBackup's copies: journaled
 * entries are also read, and are then not copied.
 */
export function needsFiles(previous: PreviousPoint | undefined, o: { tables?: string[]; wanted?: Set<string>; force?: boolean }): (k: ChunkSummary) => boolean {
  const parts = previous?.parts ?? new Map<string, ManifestPartition>();
  return (k) => (!o.wanted || o.wanted.has(k.path)) && (!!o.force || Object.keys(k.tables).some((t) => (!o.tables || o.tables.includes(t)) && !inPrevious(parts, k, t)));
}

/**
 * DolphinDB's snapshot=true: entries of tables in scope (or tables dropped from the database) whose
 * partition is gone, or was dropped and re-created, leave the new point. Returns how many left.
 */
function dropGone(parts: Map<string, ManifestPartition>, manifestTables: Record<string, TableDef>, snapshot: SummarySnapshot, tables: string[]): number {
  const def = snapshot.def;
  const live = new Map(snapshot.chunks.map((k) => [k.path, k]));
  let dropped = 0;
  for (const p of parts.values())
    for (const t of tableNamesOf(p)) {
      const inScope = tables.includes(t) || !Object.hasOwn(def.tables, t);
      const k = live.get(p.path);
      if (inScope && (!k || !k.tables[t] || k.chunkId !== p.chunkId)) {
        delete p.tables[t];
        dropped++;
      }
    }
  for (const t of Object.keys(manifestTables)) if (!Object.hasOwn(def.tables, t)) delete manifestTables[t];
  return dropped;
}

/** Records an entry in the new point, starting the partition afresh if its chunk changed. */
export function setEntry(parts: Map<string, ManifestPartition>, k: ChunkSummary, table: string, e: ManifestEntry): void {
  let p = parts.get(k.path);
  if (!p || p.chunkId !== k.chunkId) parts.set(k.path, (p = { path: k.path, chunkId: k.chunkId, tables: nameMap() }));
  p.tables[table] = e;
}

/**
 * True when the plan would commit a point equal to the previous one: nothing to copy, nothing
 * dropped, the same (partition, table, cid) entries and the same table definitions
 * (`backup --skip-if-unchanged` then makes no new point).
 */
export function unchangedSince(plan: BackupPlan): boolean {
  const prev = plan.prev;
  if (!prev || plan.toCopy.length || plan.dropped) return false;
  // Every partition is one the previous point held, with the same tables and cids.
  return [...plan.parts.values()].every((p) => p instanceof CarriedPartition && p.unchanged()) && JSON.stringify(plan.manifestTables) === JSON.stringify(prev.tables);
}
