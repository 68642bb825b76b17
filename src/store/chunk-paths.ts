/**
 * Chunk file name -> partition path, per cluster handle and database (catalog.ts chunkPaths): a
 * chunk's path never changes, so each chunk file is read for it at most once per process, and
 * the chunk files this process writes are never read back for it. A restore's group commit asks
 * for every path of the database per group: reading all 2,000 chunk files each time was a
 * quarter of the many-shape restore's main thread, and reading back the ones the last group
 * wrote ~0.1 s of it.
 */
const pathsRead = new WeakMap<object, Map<string, Map<string, string>>>();

/** The paths known for `db` through this cluster handle, by chunk file name; the caller may update it. */
export function knownChunkPaths(cluster: object, db: string): Map<string, string> {
  const perDb = pathsRead.get(cluster) ?? new Map<string, Map<string, string>>();
  pathsRead.set(cluster, perDb);
  const known = perDb.get(db) ?? new Map<string, string>();
  perDb.set(db, known);
  return known;
}

/** Records the paths of chunk files just written through this cluster handle. */
export function rememberChunkPaths(cluster: object, db: string, chunks: readonly { chunkId: string; path: string }[]): void {
  const known = knownChunkPaths(cluster, db);
  for (const k of chunks) known.set(`${k.chunkId}.json`, k.path);
}
