import { readHeaderBytes } from '../store/index.js';
import type { PackedStore } from '../repo/packed.js';
import type { SameAs } from '../repo/pack-dedup.js';
import type { CopyJob } from './backup-plan.js';

/**
 * Backup's deduplication plan (docs/FORMAT.md, "Foreign blobs"), on the main thread: among the
 * files this run writes, those of at least `minBytes` whose size occurs more than once are read
 * for their 64-byte framed header (which holds the payload's xxh3); same size and same header is a
 * candidate duplicate of the first such file. Only a candidate: a worker compares the bytes before
 * anything is referenced (pack-dedup.ts). An entry with a candidate is written in the second wave,
 * each of its packs once the packs holding its originals are indexed (IndexedEntries); an original
 * is only ever a file of a first-wave entry.
 */
export interface DedupPlan {
  /** Entries written after the indexes of their candidates' originals are durable. */
  second: Set<CopyJob>;
  /** A candidate's source path → its original: source path, entry key and file name. */
  twins: Map<string, { src: string; key: string; name: string }>;
}

export interface DedupFile {
  job: CopyJob;
  key: string;
  name: string;
  src: string;
  size: number;
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
};

export function planDedup(files: DedupFile[], minBytes: number): DedupPlan {
  const bySize = new Map<number, DedupFile[]>();
  for (const f of files) if (f.size >= minBytes) push(bySize, f.size, f);
  const groups = new Map<string, DedupFile[]>();
  for (const [size, same] of bySize) {
    if (same.length < 2) continue;
    for (const f of same) {
      const head = readHeaderBytes(f.src);
      if (!head) continue;
      push(groups, `${size}:${head.toString('hex')}`, f);
    }
  }
  const pairs: [DedupFile, DedupFile][] = [];
  for (const g of groups.values()) for (const f of g.slice(1)) if (f.job !== g[0]!.job) pairs.push([f, g[0]!]);
  const second = new Set(pairs.map(([f]) => f.job));
  const twins = new Map<string, { src: string; key: string; name: string }>();
  // An original in a second-wave entry would be written no earlier than its candidate: not referenced.
  for (const [f, o] of pairs) if (!second.has(o.job)) twins.set(f.src, { src: o.src, key: o.key, name: o.name });
  return { second, twins };
}

/** What a worker needs to reference a candidate's original: where its blobs are, once the first wave indexed them. */
export function sameAs(store: PackedStore, twin: { src: string; key: string; name: string } | undefined): SameAs | undefined {
  if (!twin) return undefined;
  const loc = store.location(twin.key);
  const f = loc?.entry.files.find((x) => x.name === twin.name);
  if (!loc || !f) return undefined;
  return { src: twin.src, xxh3: f.xxh3, blobs: f.blobs.map((b) => ({ ...b, pack: b.pack ?? loc.pack })) };
}

interface Pending {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Entry keys whose pack's index is durable. A second-wave pack waits here for the entries its
 * candidates' originals belong to (docs/FORMAT.md, foreign blobs rule 4), not for every first-wave
 * pack: with one barrier, the 2 GB S3 bench backup ran its second wave on an otherwise idle pipeline.
 */
export class IndexedEntries {
  private readonly pending = new Map<string, Pending>();

  private slot(key: string): Pending {
    let p = this.pending.get(key);
    if (!p) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      // A failed pack is reported by its own task; one nobody waits for must not be an unhandled rejection.
      promise.catch(() => undefined);
      this.pending.set(key, (p = { promise, resolve, reject }));
    }
    return p;
  }

  /** Resolves once every key's pack is indexed; rejects with the error of the first of them that failed. */
  async after(keys: string[]): Promise<void> {
    await Promise.all([...new Set(keys)].map((k) => this.slot(k).promise));
  }

  indexed(keys: string[]): void {
    for (const k of keys) this.slot(k).resolve();
  }

  failed(keys: string[], err: unknown): void {
    for (const k of keys) this.slot(k).reject(err);
  }
}
