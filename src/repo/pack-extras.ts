import type { EntryKind } from './safe-fs.js';
import type { ExtraEntry, RepoExtras } from './extras.js';
import { isPointId } from './manifest.js';
import { isPackId, packObject } from './pack-format.js';
import type { PackedStore } from './packed.js';

const TOP: ReadonlyMap<string, EntryKind> = new Map([
  ['repo.json', 'file'],
  ['lock', 'file'],
  ['check-state.json', 'file'],
  ['points', 'directory'],
  ['index', 'directory'],
  ['packs', 'directory'],
]);

/**
 * What no layout rule or restore point explains in a repository v2. `unexpected`: names the
 * layout has no place for, or entries that are not objects. `unreferenced`: well-formed packs and
 * indexes that no point references (a killed backup's packs, superseded copies) and temps; the
 * next prune removes them. `referenced` adds the entry keys the points reference to a set. Only
 * listings are used: nothing found is followed or opened, except the pack indexes, which are verified.
 */
export function scanPackExtras(store: PackedStore, referenced: (live: Set<string>) => void): RepoExtras {
  const out: RepoExtras = { unexpected: [], unreferenced: [] };
  const odd = (path: string, kind: EntryKind) => out.unexpected.push({ path, kind });
  const stale = (path: string) => out.unreferenced.push({ path, kind: 'file' });
  const kindOf = (o: { irregular?: string }): EntryKind => (o.irregular ?? 'file') as EntryKind;
  const b = store.backend;
  const top = b.list('');
  for (const o of top) if (TOP.get(o.name) !== kindOf(o)) odd(o.name, kindOf(o));
  const has = (name: string) => top.some((o) => o.name === name && o.irregular === 'directory');

  const live = new Set<string>();
  referenced(live);
  // A pack only foreign blobs of live entries name is in use too.
  const inUse = has('index') ? store.packsInUse(live) : undefined;
  const used = new Set<string>(inUse ? [...inUse.inPack.keys(), ...inUse.pinned] : []);

  const scan = (prefix: string, ok: (base: string, name: string) => 'ok' | 'stale' | 'odd') => {
    if (!has(prefix.slice(0, -1))) return;
    for (const o of b.list(prefix)) {
      const base = o.name.split('/').at(-1)!;
      const verdict = o.irregular ? 'odd' : base.startsWith('.tmp-') ? 'stale' : ok(base, o.name);
      if (verdict === 'odd') odd(o.name, kindOf(o));
      else if (verdict === 'stale') stale(o.name);
    }
  };
  scan('points/', (base) => (base.endsWith('.json') && isPointId(base.slice(0, -5)) ? 'ok' : 'odd'));
  scan('index/', (base) => (!isPackId(base) ? 'odd' : used.has(base) ? 'ok' : 'stale'));
  scan('packs/', (base, name) => (!isPackId(base) || name !== packObject(base) ? 'odd' : used.has(base) ? 'ok' : 'stale'));
  return out;
}

export type { ExtraEntry };
