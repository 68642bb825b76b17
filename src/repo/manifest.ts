import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CvError, corrupt, fromSystemError, notFound, usage } from '../common/errors.js';
import { writeFileAtomic } from '../common/durable.js';
import { TYPES, levelNames, levelsOf, partitionPathTest, validateScheme, type DatabaseDef, type Scheme, type TableDef } from '../store/index.js';
import { linesRead } from '../common/file-lines.js';
import { sealJsonRuns, unsealJsonBytes, unsealJsonLines, type RawJson } from './sealed-json.js';
import { checkChunkId, checkCid, checkFileName, checkIdent, checkPartitionPath, isPathComponent } from './names.js';
import { ensureDirs, listDir, openRegularFile } from './safe-fs.js';
import { SeenChunkIds, SeenPaths } from './seen-names.js';

/** One file of a table version as it was copied: its checksum describes exactly the bytes written. */
export interface ManifestFile {
  name: string;
  size: number;
  xxh3: string;
}
export interface ManifestEntry {
  cid: number;
  rows: number;
  bytes: number;
  updateTime: string;
  files: ManifestFile[];
}
export interface ManifestPartition {
  path: string;
  chunkId: string;
  tables: Record<string, ManifestEntry>;
}

/** An immutable restore point: everything needed to restore the database as of `created`. */
export interface Manifest {
  /** 2: the file carries a checksum of its content (sealed-json.ts). Format 1 points are refused. */
  format: 2;
  pointId: string;
  parent?: string;
  dbPath: string;
  engine: DatabaseDef['engine'];
  scheme: Scheme;
  tables: Record<string, TableDef>;
  /** When the backup pinned its snapshot: the point is consistent as of this instant. */
  created: string;
  committed: string;
  /**
   * What `partitions` holds, so `points` reads it without parsing them; absent in points written
   * before it. Covered by the checksum like every field; nothing but `points` reads it (an edit
   * that re-seals a point changes only what `points` prints; check and restore go by the partitions).
   */
  totals?: ManifestTotals;
  partitions: ManifestPartition[];
  stats: { copiedEntries: number; skippedEntries: number; droppedEntries: number; copiedBytes: number };
}

export interface ManifestTotals {
  partitions: number;
  entries: number;
  bytes: number;
  /** v2: what the entries' blobs took in the repository when the point was written (their packs' bytes; deduplicated files take nothing). */
  bytesStored?: number;
}
/** A partition without its file lists: what `list` keeps of one (partition-scan.ts reads it so). */
export interface PartitionSummary {
  path: string;
  chunkId: string;
  tables: Record<string, Omit<ManifestEntry, 'files'>>;
}
/** Every field of a manifest but its partitions: what is read before (and without) them. */
export type ManifestHead = Omit<Manifest, 'partitions'>;

/** A manifest as a backup hands it to be written: partitions carried unchanged may be their verified lines. */
export type ManifestToWrite = ManifestHead & { partitions: (ManifestPartition | RawJson)[] };

export const pointsDir = (repo: string) => path.join(repo, 'points');

/** Sortable ids: time first, random tail, so two points in the same millisecond still differ. */
export function newPointId(at = new Date()): string {
  return at.toISOString().replace(/[-:.]/g, '') + '-' + randomBytes(3).toString('hex');
}
const POINT_RE = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

export function listPointIds(repo: string): string[] {
  return listDir(repo, ['points'])
    .map((e) => e.name)
    .filter((f) => f.endsWith('.json') && POINT_RE.test(f.slice(0, -5)))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Commits a restore point: the manifest's temp is fsynced, renamed into points/, and points/ is fsynced. */
export function writeManifest(repo: string, m: ManifestToWrite): void {
  ensureDirs(repo, ['points']); // never through a planted link
  writeFileAtomic(path.join(pointsDir(repo), `${m.pointId}.json`), sealJsonRuns(m));
}

/** Reads a manifest and verifies it (checksum, names, scheme, counts): it comes from an untrusted directory. */
export function readManifest(repo: string, pointId: string): Manifest {
  // Read in pieces, a line at a time: a point of 100,000 partitions is never held as one buffer.
  return withPointFile(repo, pointId, (read, file) => readPointFile(read, pointId, file));
}

/** Reads one point file through `read(buf, position)`, verified (readManifest's parse, for a reader that opened it). */
export function readPointFile(read: (buf: Buffer, position: number) => number, pointId: string, file: string): Manifest {
  const whole = () => {
    const parts: Buffer[] = [];
    for (let pos = 0, buf = Buffer.allocUnsafe(1 << 20), n = 0; (n = read(buf, pos)) > 0; pos += n) parts.push(Buffer.from(buf.subarray(0, n)));
    return Buffer.concat(parts).toString('utf8');
  };
  return checked(() => unsealJsonLines(linesRead(read), whole, `restore point ${file}`) as unknown as Manifest, pointId, file);
}

/** Opens a point file of a local repository (a regular file, never through a link) for `use`, and closes it. */
export function withPointFile<T>(repo: string, pointId: string, use: (read: (buf: Buffer, position: number) => number, file: string) => T): T {
  if (!POINT_RE.test(pointId)) throw usage(`bad restore point id "${pointId}"`);
  const f = openRegularFile(repo, ['points', `${pointId}.json`]);
  if (f === undefined) throw notFound(`restore point ${pointId} does not exist in ${repo}`);
  try {
    return use((buf, position) => fs.readSync(f.fd, buf, 0, buf.length, position), f.file);
  } catch (err) {
    // A system error while reading (EIO…) names the file; anything else (CORRUPT…) passes as it is.
    throw err instanceof CvError || !(err as NodeJS.ErrnoException).code ? err : fromSystemError(err, `cannot read ${f.file}`);
  } finally {
    fs.closeSync(f.fd);
  }
}

export const isPointId = (id: string) => POINT_RE.test(id);

/** Verifies a manifest's bytes (checksum, names, scheme, counts); `file` names it in errors. */
export function parseManifest(buf: Uint8Array, pointId: string, file: string): Manifest {
  return checked(() => unsealJsonBytes(buf, `restore point ${file}`) as unknown as Manifest, pointId, file);
}

function checked(parse: () => Manifest, pointId: string, file: string): Manifest {
  const m = parse();
  asMalformed(file, () => validateManifest(m, pointId, file));
  return m;
}

/** Runs a check of a manifest's content: whatever a hostile manifest makes it trip over is a malformed manifest, not a bug. */
export function asMalformed(file: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof CvError) throw err;
    throw corrupt(`${file} is malformed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function validateManifest(m: Manifest, pointId: string, file: string): void {
  validateHead(m, pointId, file);
  if (!Array.isArray(m.partitions)) throw corrupt(`${file} is not a chunkvault restore point`);
  const check = partitionChecker(m, file);
  for (const p of m.partitions) check(p);
}

/** Checks every field but the partitions (a streaming reader checks those one at a time: partitionChecker). */
export function validateHead(m: ManifestHead, pointId: string, file: string): void {
  if ((m.format as number) === 1) throw corrupt(`${file} was written without a checksum (format 1); back up again to make a verifiable restore point`);
  if (m.format !== 2 || m.pointId !== pointId || !isRecord(m.tables) || !isRecord(m.stats)) throw corrupt(`${file} is not a chunkvault restore point`);
  if (typeof m.dbPath !== 'string' || (m.engine !== 'OLAP' && m.engine !== 'TSDB') || !isRecord(m.scheme)) throw corrupt(`${file}: bad database, engine or scheme`);
  if (typeof m.created !== 'string' || Number.isNaN(Date.parse(m.created))) throw corrupt(`${file}: bad creation time`);
  const t = m.totals;
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (t !== undefined && !(isRecord(t) && [t.partitions, t.entries, t.bytes].every(count) && (t.bytesStored === undefined || count(t.bytesStored)))) throw corrupt(`${file}: bad totals`);
  try {
    validateScheme(m.scheme);
  } catch (err) {
    throw corrupt(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const [name, t] of Object.entries(m.tables)) {
    checkIdent('table name', name);
    if (!isRecord(t) || t.name !== name || !Array.isArray(t.schema) || !t.schema.length) throw corrupt(`${file}: table ${name} is malformed`);
    for (const c of t.schema) {
      checkIdent('column name', c?.name);
      if (typeof c.type !== 'string' || !Object.hasOwn(TYPES, c.type)) throw corrupt(`${file}: column ${name}.${c.name} has unknown type ${JSON.stringify(c.type)}`);
    }
  }
}

/** Checks a point's partitions one at a time, after validateHead (readers that stream them); `named` may be shared with a partition scanner. */
export function partitionChecker(m: ManifestHead, file: string, named = partitionNamer(m)): (p: ManifestPartition) => void {
  // A table's entries mostly hold the same file names: each name is checked once per point.
  const fileNames = new Set<string>();
  return (p: ManifestPartition) => {
    named(p?.path, p.chunkId);
    if (!isRecord(p.tables)) throw corrupt(`${file}: partition ${p.path} has no table map`);
    for (const [table, e] of Object.entries(p.tables)) validateEntry(m, file, p.path, table, e, fileNames);
  };
}

/** The checks of a partition's path and chunk id: safe names, its scheme's, and none named before in the point. */
export function partitionNamer(m: ManifestHead): (path: unknown, chunkId: unknown) => void {
  const fits = partitionPathTest(m.scheme);
  // The scheme's names that are safe components: a path of those passes both path checks in one
  // walk along it (checkPartitionPath and fits, a split each, were ~8% of `list` at 100,000 partitions).
  const safe = levelsOf(m.scheme).map((l) => new Set(levelNames(l).filter(isPathComponent)));
  const paths = new SeenPaths();
  const ids = new SeenChunkIds();
  return (p, chunkId) => {
    const known = ofSafeNames(p, safe);
    const path = known ? (p as string) : checkPartitionPath(p);
    const id = checkChunkId(chunkId);
    if (!known && !fits(path)) throw corrupt(`restore point ${m.pointId} names partition ${path}, which does not fit its own partition scheme`);
    if (!paths.add(path) || !ids.add(id)) throw corrupt(`restore point ${m.pointId} lists partition ${path} or chunk ${id} twice`);
  };
}

/** True when `p` is `/` then one name of each level's `names`, in order (indexOf, not split: half the time). */
function ofSafeNames(p: unknown, names: Set<string>[]): boolean {
  const last = names.length - 1;
  if (typeof p !== 'string' || p[0] !== '/' || last < 0) return false;
  let at = 1;
  for (let i = 0; i < last; i++) {
    const end = p.indexOf('/', at);
    if (end < 0 || !names[i]!.has(p.slice(at, end))) return false;
    at = end + 1;
  }
  return p.indexOf('/', at) < 0 && names[last]!.has(p.slice(at));
}

function validateEntry(m: ManifestHead, file: string, partPath: string, table: string, e: ManifestEntry, fileNames: Set<string>): void {
  // The head's table names passed checkIdent (validateHead): only another name needs it.
  if (!Object.hasOwn(m.tables, table)) {
    checkIdent('table name', table);
    throw corrupt(`${file}: partition ${partPath} names unknown table ${table}`);
  }
  if (!isRecord(e)) throw corrupt(`${file}: partition ${partPath} table ${table} is malformed`);
  checkCid(e.cid);
  if (!Array.isArray(e.files) || !e.files.length) throw corrupt(`${file}: partition ${partPath} table ${table} has no file list`);
  if (!Number.isSafeInteger(e.rows) || e.rows < 0 || namesRepeat(e.files.length, (i) => e.files[i]?.name)) throw corrupt(`restore point ${m.pointId}: partition ${partPath} has a bad row count or a file listed twice`);
  let bytes = 0;
  for (const f of e.files) {
    if (!fileNames.has(f?.name)) fileNames.add(checkFileName(f.name));
    if (!Number.isSafeInteger(f.size) || f.size < 0 || typeof f.xxh3 !== 'string' || !/^[0-9a-f]{16}$/.test(f.xxh3))
      throw corrupt(`${file}: file ${f.name} of ${partPath} has a bad size or checksum`);
    bytes += f.size;
  }
  if (e.bytes !== bytes) throw corrupt(`${file}: partition ${partPath} table ${table} says ${e.bytes} bytes, its files hold ${bytes}`);
}

/** True when two of `n` names repeat: pairs compared for the few files of a usual entry, a set beyond. */
export function namesRepeat(n: number, nameAt: (i: number) => unknown): boolean {
  if (n > 16) return new Set(Array.from({ length: n }, (_, i) => nameAt(i))).size !== n;
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (nameAt(i) === nameAt(j)) return true;
  return false;
}

/** Picks a restore point: the latest, an exact id, or the latest committed at or before an ISO time. */
export function resolvePoint(repo: string, asOf?: string): Manifest {
  return resolvePointIn(listPointIds(repo), (id) => readManifest(repo, id), repo, asOf);
}

/** resolvePoint over any store of points: `ids` sorted, `read` verifies (a whole manifest, or its head). */
export function resolvePointIn<M extends { created: string }>(ids: string[], read: (id: string) => M, where: string, asOf?: string): M {
  const seen = new Map<string, M>();
  const id = resolvePointId(ids, (x) => seen.set(x, read(x)).get(x)!.created, where, asOf);
  return seen.get(id) ?? read(id);
}

/** The id of the latest point, of the point --as-of names, or of the latest created at or before an ISO time (`createdOf` reads only then). */
export function resolvePointId(ids: string[], createdOf: (id: string) => string, where: string, asOf?: string): string {
  if (!ids.length) throw notFound(`no restore point in ${where}`);
  if (!asOf) return ids[ids.length - 1]!;
  if (POINT_RE.test(asOf)) {
    if (!ids.includes(asOf)) throw notFound(`restore point ${asOf} does not exist in ${where}`);
    return asOf;
  }
  const t = Date.parse(asOf);
  if (Number.isNaN(t)) throw usage(`bad --as-of "${asOf}": expected a restore point id or an ISO time`);
  const candidates = ids.filter((id) => Date.parse(createdOf(id)) <= t);
  if (!candidates.length) throw notFound(`no restore point in ${where} as of ${asOf}`);
  return candidates[candidates.length - 1]!;
}

/** The point, or CORRUPT when it describes another database than the repository's (`where`). */
export function ofDatabase<H extends ManifestHead>(head: H, dbPath: string, where: string): H {
  if (head.dbPath !== dbPath) throw new CvError('CORRUPT', `restore point ${head.pointId} in ${where} describes ${head.dbPath}, not ${dbPath}`);
  return head;
}

export const entryKey = (chunkId: string, table: string, cid: number) => `${chunkId}/${table}/${cid}`;
