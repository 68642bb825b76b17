import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CvError, corrupt, notFound, usage } from '../../common/errors.js';
import { writeJsonAtomic } from '../../common/durable.js';
import type { DatabaseDef, Scheme, TableDef } from '../../store/index.js';
import { checkChunkId, checkCid, checkFileName, checkIdent, checkPartitionPath } from './names.js';
import { entryKind, listDir, readJsonFile } from './safe-fs.js';

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
  format: 1;
  pointId: string;
  parent?: string;
  dbPath: string;
  engine: DatabaseDef['engine'];
  scheme: Scheme;
  tables: Record<string, TableDef>;
  /** When the backup pinned its snapshot: the point is consistent as of this instant. */
  created: string;
  committed: string;
  partitions: ManifestPartition[];
  stats: { copiedEntries: number; skippedEntries: number; droppedEntries: number; copiedBytes: number };
}

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

export function writeManifest(repo: string, m: Manifest): void {
  fs.mkdirSync(pointsDir(repo), { recursive: true });
  writeJsonAtomic(path.join(pointsDir(repo), `${m.pointId}.json`), m);
}

/** Reads a manifest and validates every name in it, since it comes from an untrusted directory. */
export function readManifest(repo: string, pointId: string): Manifest {
  if (!POINT_RE.test(pointId)) throw usage(`bad restore point id "${pointId}"`);
  const file = path.join(pointsDir(repo), `${pointId}.json`);
  if (!entryKind(repo, ['points', `${pointId}.json`])) throw notFound(`restore point ${pointId} does not exist in ${repo}`);
  const m = readJsonFile(repo, ['points', `${pointId}.json`], 'restore point') as Manifest;
  try {
    validateManifest(m, file);
  } catch (err) {
    // A field of the wrong shape (null where an object belongs) trips the checks themselves.
    throw err instanceof CvError ? err : corrupt(`${file} is not a well-formed restore point`);
  }
  return m;
}

function validateManifest(m: Manifest, file: string): void {
  if (m?.format !== 1 || !Array.isArray(m.partitions) || typeof m.tables !== 'object' || m.tables === null) throw corrupt(`${file} is not a chunkvault restore point`);
  for (const [name, t] of Object.entries(m.tables)) {
    checkIdent('table name', name);
    if (t.name !== name || !Array.isArray(t.schema)) throw corrupt(`${file}: table ${name} is malformed`);
    for (const c of t.schema) checkIdent('column name', c.name);
  }
  const paths = new Set<string>();
  const ids = new Set<string>();
  for (const p of m.partitions) {
    checkPartitionPath(p.path);
    checkChunkId(p.chunkId);
    if (paths.has(p.path) || ids.has(p.chunkId)) throw corrupt(`restore point ${m.pointId} lists partition ${p.path} or chunk ${p.chunkId} twice`);
    paths.add(p.path);
    ids.add(p.chunkId);
    for (const [table, e] of Object.entries(p.tables ?? {})) {
      checkIdent('table name', table);
      if (!m.tables[table]) throw corrupt(`${file}: partition ${p.path} names unknown table ${table}`);
      checkCid(e.cid);
      if (!Array.isArray(e.files)) throw corrupt(`${file}: partition ${p.path} table ${table} has no file list`);
      if (!Number.isSafeInteger(e.rows) || e.rows < 0 || new Set(e.files.map((f) => f.name)).size !== e.files.length)
        throw corrupt(`restore point ${m.pointId}: partition ${p.path} has a bad row count or a file listed twice`);
      for (const f of e.files) {
        checkFileName(f.name);
        if (!Number.isSafeInteger(f.size) || f.size < 0 || typeof f.xxh3 !== 'string' || !/^[0-9a-f]{16}$/.test(f.xxh3))
          throw corrupt(`${file}: file ${f.name} of ${p.path} has a bad size or checksum`);
      }
    }
  }
}

/** Picks a restore point: the latest, an exact id, or the latest committed at or before an ISO time. */
export function resolvePoint(repo: string, asOf?: string): Manifest {
  const ids = listPointIds(repo);
  if (!ids.length) throw notFound(`no restore point in ${repo}`);
  if (!asOf) return readManifest(repo, ids[ids.length - 1]!);
  if (POINT_RE.test(asOf)) return readManifest(repo, asOf);
  const t = Date.parse(asOf);
  if (Number.isNaN(t)) throw usage(`bad --as-of "${asOf}": expected a restore point id or an ISO time`);
  const candidates = ids.map((id) => readManifest(repo, id)).filter((m) => Date.parse(m.created) <= t);
  if (!candidates.length) throw notFound(`no restore point in ${repo} as of ${asOf}`);
  return candidates[candidates.length - 1]!;
}

export const entryKey = (chunkId: string, table: string, cid: number) => `${chunkId}/${table}/${cid}`;
