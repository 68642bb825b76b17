import type { CopyPipeline, HashProblem, HashResult } from '../io/index.js';
import { versionProblem } from '../store/index.js';
import { chunkPathOf } from './inspect.js';
import type { ManifestEntry, ManifestHead } from '../repo/manifest.js';
import type { Repository } from '../repo/repository.js';
import { readEntryFromPack } from './restore-packs.js';

/** HashProblem, or 'manifest': the files are intact but are not what the manifest describes (rows, types, file set). */
export type CheckProblem = HashProblem | 'manifest';

/** One bad (chunkId, table, cid): DolphinDB's checkBackup columns, then what is wrong. */
export interface BadChunk {
  dbName: string;
  tableName: string;
  chunkPath: string;
  chunkID: string;
  /** The partition relative to the database: what `backup --force --partition` takes to repair it. */
  partitionPath: string;
  cid: number;
  problem: CheckProblem;
  files: { name: string; problem: CheckProblem; detail: string }[];
}

/** One (chunkId, table, cid) of a restore point, in the order checks walk them. */
export interface Item {
  key: string;
  table: string;
  partitionPath: string;
  chunkId: string;
  e: ManifestEntry;
}

export interface EntryChecked {
  bad?: BadChunk;
  files: number;
  bytes: number;
}

export interface EntryCheckContext {
  repo: Repository;
  m: ManifestHead;
  pipeline: CopyPipeline;
  /** The repository's disk queue. */
  disk: string;
}

/**
 * Re-hashes one entry's files in the pool and ties them to the manifest (sizes, checksums, then
 * the framed headers: rows, types, file set). Returns the bad chunk, if any, and files and bytes
 * hashed (its own: the pipeline's counter is shared by every database of a `check` of them all).
 */
export async function checkEntry(x: EntryCheckContext, it: Item): Promise<EntryChecked> {
  const t = x.m.tables[it.table]!;
  const base = { dbName: x.m.dbPath, tableName: it.table, chunkPath: chunkPathOf(x.m.dbPath, it.partitionPath, t), chunkID: it.chunkId, partitionPath: it.partitionPath, cid: it.e.cid };
  if (x.repo.packs) return judgeEntry(x, it, base, await packed(x, it));
  let files: string[];
  try {
    files = x.repo.entryFiles(it.chunkId, it.table, it.e);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const problem: CheckProblem = /symbolic link/.test(detail) ? 'symlink' : 'unreadable';
    return { bad: { ...base, problem, files: it.e.files.map((f) => ({ name: f.name, problem, detail })) }, files: 0, bytes: 0 };
  }
  const results: HashResult[] = await x.pipeline.hashFiles(
    it.e.files.map((f, i) => ({ src: files[i]!, expectedSize: f.size, expectedXxh3: f.xxh3 })),
    x.disk,
  );
  return judgeEntry(x, it, base, results);
}

/** A v2 entry's files read back from its pack (verify only), or one problem for the whole entry. */
async function packed(x: EntryCheckContext, it: Item): Promise<HashResult[]> {
  try {
    const read = await readEntryFromPack(x.repo.packs!, x.pipeline, it.chunkId, it.table, it.e, '', { src: x.disk });
    return read.map((r, i) => ({ path: it.e.files[i]!.name, ...r }));
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'CANCELLED') throw err;
    const detail = err instanceof Error ? err.message : String(err);
    const problem: HashProblem = /lacks the data/.test(detail) ? 'missing' : /does not describe/.test(detail) ? 'checksum' : 'unreadable';
    return it.e.files.map((f) => ({ path: f.name, size: 0, problem, detail }));
  }
}

/** Ties hash results to the manifest: sizes and checksums (already), then rows, types, file set. */
function judgeEntry(x: EntryCheckContext, it: Item, base: Omit<BadChunk, 'problem' | 'files'>, results: HashResult[]): EntryChecked {
  const t = x.m.tables[it.table]!;
  const probs: BadChunk['files'] = results.flatMap((r, i) => (r.problem ? [{ name: it.e.files[i]!.name, problem: r.problem, detail: r.detail ?? '' }] : []));
  if (!probs.length) {
    const why = versionProblem(x.m.engine, t.schema, it.e.rows, results.map((r, i) => ({ name: it.e.files[i]!.name, size: r.size, head: r.head ?? new Uint8Array(0) })));
    if (why) probs.push({ name: it.e.files.find((f) => why.startsWith(`${f.name}:`) || why.startsWith(`${f.name} `))?.name ?? '*', problem: 'manifest', detail: why });
  }
  const bytes = results.reduce((a, r) => a + r.size, 0);
  return { ...(probs.length ? { bad: { ...base, problem: probs[0]!.problem, files: probs } } : {}), files: results.length, bytes };
}
