import { corrupt } from '../common/errors.js';
import { parseJson } from '../common/json.js';
import { asMalformed, entryKey, partitionChecker, readPointFile, resolvePointId, validateHead, withPointFile, type Manifest, type ManifestHead, type ManifestPartition, type PartitionSummary } from './manifest.js';
import { lineBuffers } from '../common/file-lines.js';
import { walkSealed } from './sealed-json.js';
import { summaryReader } from './partition-scan.js';

/**
 * A restore point read a partition at a time (issue 14): at 100,000 partitions a point is ~130 MB
 * and 1.2 million file entries, ~400 MB as objects, and most readers need one partition at a time
 * (list, points) or a few fields of each (restore planning, check).
 *
 * A point laid out as sealJsonRuns writes it is read twice through its open file: first its bytes
 * are hashed against its checksum (nothing parsed but the header), then, only if it matched and a
 * reader wants them, its partitions are parsed one line at a time, each checked (names, scheme,
 * counts) before it reaches `each`. A caller believes nothing it was given until this returns:
 * a partition that fails its checks, or a file whose bytes change between the passes, throws
 * CORRUPT. `each` also gets the partition's line (reused after the call; none for a point read
 * whole). A point laid out any other way (older, indented) is read whole as readManifest reads it.
 */
export function scanManifest(repo: string, pointId: string, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
  return withPointFile(repo, pointId, (read, file) => scanPointRead(read, pointId, file, each));
}

/**
 * scanManifest over any reader of a point's bytes (a v2 point is one object, opened in memory:
 * packed.ts). Read as lines, each partition keeps its line: a point read whole handed partitions
 * without one, and a restore serialised each to keep it and parsed it again to plan (~0.1 s of a
 * many-shape migrate's main thread).
 */
export function scanPointRead(read: (buf: Buffer, position: number) => number, pointId: string, file: string, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
  const verified = walkSealed(lineBuffers(read));
  if (!verified || verified.arrayKey !== 'partitions') return splitWhole(readPointFile(read, pointId, file), each);
  const head = verified.head as unknown as ManifestHead;
  asMalformed(file, () => validateHead(head, pointId, file));
  if (!each) return head;
  const check = partitionChecker(head, file);
  const again = walkSealed(lineBuffers(read), (line) => {
    const p = parseJson(line.toString('utf8')) as ManifestPartition;
    asMalformed(file, () => check(p));
    each(p, line);
  });
  if (!again) throw corrupt(`restore point ${file} changed while it was read`);
  return head;
}

/**
 * What a one-pass reader keeps of a partition: called with its summary (a whole partition when the
 * scanner left the line to JSON.parse, or the point was read whole) and, when read as lines, its line
 * (valid until the call returns). Nothing it was given may be believed until the pass returned.
 */
export type Pick<T> = (p: PartitionSummary, line?: Buffer) => T | undefined;

/**
 * A point read once, for a reader that keeps a little of each partition (list): each line is
 * read into its summary and checked as its bytes are hashed (partition-scan.ts: no object per
 * file), `pick` keeps what the reader needs of it, and what was kept is returned only once the
 * whole file matched its checksum. A check that failed on the way is thrown only then, so a
 * damaged file still says it is damaged. One pass of reading and hashing instead of
 * scanManifest's two: that pass was a quarter of `list`'s time at 100,000 partitions (issue 14).
 * A file laid out otherwise, or whose partitions come before the fields their checks need, is
 * read as scanManifest reads it.
 */
export function pickManifest<T>(repo: string, pointId: string, pick: Pick<T>): { head: ManifestHead; picked: T[] } {
  return withPointFile(repo, pointId, (read, file) => pickPointRead(read, pointId, file, pick));
}

/** pickManifest over any reader of a point's bytes (a v2 point object: packed.ts withPoint). */
export function pickPointRead<T>(read: (buf: Buffer, position: number) => number, pointId: string, file: string, pick: Pick<T>): { head: ManifestHead; picked: T[] } {
  const picked: T[] = [];
  const keep = keeper(picked, pick);
  let failure: { err: unknown } | undefined;
  let early = true;
  let summary: ((line: Buffer) => PartitionSummary) | undefined;
  const verified = walkSealed(lineBuffers(read), (line, soFar) => {
    if (failure || !(early &&= ['pointId', 'scheme', 'tables'].every((k) => k in soFar))) return;
    try {
      summary ??= summaryReader(soFar as unknown as ManifestHead, file);
      keep(summary(line), line);
    } catch (err) {
      failure = { err };
    }
  });
  if (verified && verified.arrayKey === 'partitions' && early) {
    const head = verified.head as unknown as ManifestHead;
    asMalformed(file, () => validateHead(head, pointId, file));
    if (failure) throw failure.err;
    return { head, picked };
  }
  picked.length = 0;
  return { head: scanPointRead(read, pointId, file, keep), picked };
}

const keeper =
  <T>(picked: T[], pick: Pick<T>) =>
  (p: PartitionSummary, line?: Buffer) => {
    const v = pick(p, line);
    if (v !== undefined) picked.push(v);
  };

/** A pick (pickManifest, pickPoint) that adds each entry's key, chunkId/table/cid, to `keys` and keeps nothing. */
export const keysInto =
  (keys: Set<string>) =>
  (p: PartitionSummary): undefined => {
    for (const [t, e] of Object.entries(p.tables)) keys.add(entryKey(p.chunkId, t, e.cid));
    return undefined;
  };

/** The id of the point `asOf` names among `ids` of a local repository: only an --as-of time reads the heads of points to choose one. */
export function pointIdIn(repo: string, ids: string[], asOf: string | undefined): string {
  return resolvePointId(ids, (x) => scanManifest(repo, x).created, repo, asOf);
}

/** A manifest read whole, handed out as a scan hands it: its partitions to `each`, then its head. */
export function splitWhole(m: Manifest, each?: (p: ManifestPartition) => void): ManifestHead {
  const { partitions, ...head } = m;
  if (each) for (const p of partitions) each(p);
  return head;
}
