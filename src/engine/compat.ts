import { conflict, corrupt } from '../common/errors.js';
import { levelsOf, partitionPathTest, type DatabaseDef, type Level, type Scheme, type TableDef } from '../store/index.js';
import type { Manifest } from '../repo/manifest.js';

/**
 * Can a restore point go into an existing target database? DolphinDB's rule: same engine, same
 * partition scheme, except that a VALUE level of the target may hold more values than the backup's.
 */

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const describe = (l: Level) => `${l.type}(${l.colType})`;

export function checkEngine(target: DatabaseDef, m: Pick<Manifest, 'engine' | 'dbPath'>): void {
  if (target.engine !== m.engine) throw conflict(`engine mismatch: the backup of ${m.dbPath} is ${m.engine}, target ${target.dbPath} is ${target.engine}`);
}

/**
 * Compares the schemes level by level and returns, per VALUE level index, the backup's values the
 * target lacks (the caller adds them: addValuePartitions). Anything else that differs is a CONFLICT.
 */
export function valueAdditions(target: Scheme, backup: Scheme, targetDb: string): Map<number, (string | number)[]> {
  const tl = levelsOf(target);
  const bl = levelsOf(backup);
  const bad = (what: string) => conflict(`partition scheme mismatch with ${targetDb}: ${what}`);
  if (tl.length !== bl.length) throw bad(`the backup has ${bl.length} level(s), the target ${tl.length}`);
  const out = new Map<number, (string | number)[]>();
  tl.forEach((t, i) => {
    const b = bl[i]!;
    if (t.type !== b.type || t.colType !== b.colType) throw bad(`level ${i + 1} is ${describe(b)} in the backup, ${describe(t)} in the target`);
    if (t.type === 'HASH' && b.type === 'HASH' && t.buckets !== b.buckets) throw bad(`level ${i + 1} HASH has ${b.buckets} buckets in the backup, ${t.buckets} in the target`);
    if (t.type === 'RANGE' && b.type === 'RANGE' && !same(t.bounds, b.bounds)) throw bad(`level ${i + 1} RANGE bounds differ`);
    if (t.type === 'LIST' && b.type === 'LIST' && !same(t.lists, b.lists)) throw bad(`level ${i + 1} LIST values differ`);
    if (t.type === 'VALUE' && b.type === 'VALUE') {
      const have = new Set(t.values);
      const missing = b.values.filter((v) => !have.has(v));
      if (missing.length) out.set(i, missing);
    }
  });
  return out;
}

/** A restored table version is copied file for file, so columns, types, order and layout must agree. */
export function checkTableSchema(target: TableDef, backup: TableDef, targetDb: string): void {
  const cols = (t: TableDef) => t.schema.map((c) => `${c.name} ${c.type}`).join(', ');
  const where = `table ${target.name} of ${targetDb}`;
  if (cols(target) !== cols(backup)) throw conflict(`schema mismatch: ${where} has (${cols(target)}), the backup's ${backup.name} has (${cols(backup)})`);
  if (!same(target.partitionColumns, backup.partitionColumns))
    throw conflict(`schema mismatch: ${where} is partitioned by ${target.partitionColumns.join(',')}, the backup's ${backup.name} by ${backup.partitionColumns.join(',')}`);
  if (!same(target.sortColumns ?? [], backup.sortColumns ?? []))
    throw conflict(`schema mismatch: ${where} is sorted by ${(target.sortColumns ?? []).join(',') || 'nothing'}, the backup's ${backup.name} by ${(backup.sortColumns ?? []).join(',') || 'nothing'}`);
}

/** A partition path from a manifest must name one existing partition of each level of the target's scheme. */
export function pathChecker(scheme: Scheme): (partPath: string) => void {
  const fits = partitionPathTest(scheme);
  return (partPath) => {
    if (!fits(partPath)) throw corrupt(`the backup names partition ${partPath}, which does not fit the partition scheme of the target`);
  };
}
