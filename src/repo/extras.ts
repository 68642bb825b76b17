import { entryKey } from './manifest.js';
import { eachEntry, listDir, type EntryKind } from './safe-fs.js';

/** An entry of the repository that no restore point explains; path is relative to the repository. */
export interface ExtraEntry {
  path: string;
  kind: EntryKind;
}

/**
 * `unexpected`: names the layout has no place for, or of the wrong kind (a link, FIFO, a file
 * where a directory belongs). `unreferenced`: well-formed data no point or journal names (left by
 * an interrupted prune, or a killed run's staging copy), which the next prune or backup removes.
 */
export interface RepoExtras {
  unexpected: ExtraEntry[];
  unreferenced: ExtraEntry[];
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const POINT_FILE_RE = /^\d{8}T\d{9}Z-[0-9a-f]{6}\.json$/;
const TOP: ReadonlyMap<string, EntryKind> = new Map([
  ['repo.json', 'file'],
  ['lock', 'file'],
  ['check-state.json', 'file'],
  ['points', 'directory'],
  ['journal', 'directory'],
  ['data', 'directory'],
]);

/**
 * Every file name each referenced (chunkId, table, cid) should hold, from every point and journal:
 * the names joined by "/" (which no file name holds), one string per entry rather than a set, and
 * one string for every entry with the same names (a table's entries mostly hold the same column
 * files), so the references of 200,000 entries stay a few tens of MB (issue 14).
 */
export class ReferencedFiles {
  private readonly keys = new Map<string, string>();
  private readonly lists = new Map<string, string>();
  private sorted: string[] | undefined;

  add(key: string, files: readonly { name: string }[]): void {
    const had = this.keys.get(key);
    let names = files.map((f) => f.name).join('/');
    if (had !== undefined && had !== names) names = [...new Set([...had.split('/'), ...names.split('/')])].join('/');
    if (had === names) return;
    this.sorted = undefined;
    const shared = this.lists.get(names);
    if (shared === undefined) this.lists.set(names, names);
    this.keys.set(key, shared ?? names);
  }

  /** The names an entry should hold, or undefined when no point or journal references it. */
  names(key: string): string[] | undefined {
    return this.keys.get(key)?.split('/');
  }

  /** True when a referenced entry's key starts with `<prefix>/` (a chunk, or a chunk's table): a search of the sorted keys, no set of prefixes. */
  holds(prefix: string): boolean {
    this.sorted ??= [...this.keys.keys()].sort();
    const want = `${prefix}/`;
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < want) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.sorted.length && this.sorted[lo]!.startsWith(want);
  }
}

/**
 * Lists what does not belong in a repository. Only lstat and readdir are used: nothing found is
 * followed or opened, so the scan itself is safe on a hostile repository.
 */
export function scanExtras(repoDir: string, keys: ReferencedFiles): RepoExtras {
  const out: RepoExtras = { unexpected: [], unreferenced: [] };
  const odd = (rel: string[], kind: EntryKind) => out.unexpected.push({ path: rel.join('/'), kind });

  const top = listDir(repoDir, []);
  for (const e of top) if (TOP.get(e.name) !== e.kind) odd([e.name], e.kind);
  const dirOk = (name: string) => top.some((e) => e.name === name && e.kind === 'directory');
  if (dirOk('points')) for (const e of listDir(repoDir, ['points'])) if (e.kind !== 'file' || !POINT_FILE_RE.test(e.name)) odd(['points', e.name], e.kind);
  if (dirOk('journal')) for (const e of listDir(repoDir, ['journal'])) if (e.kind !== 'file' || !e.name.endsWith('.jsonl')) odd(['journal', e.name], e.kind);
  if (dirOk('data')) scanData(repoDir, keys, out);
  return out;
}

function scanData(repoDir: string, keys: ReferencedFiles, out: RepoExtras): void {
  const odd = (rel: string[], kind: EntryKind) => out.unexpected.push({ path: rel.join('/'), kind });
  const stale = (rel: string[], kind: EntryKind) => out.unreferenced.push({ path: rel.join('/'), kind });
  for (const chunk of eachEntry(repoDir, ['data'])) {
    const c = ['data', chunk.name];
    if (chunk.kind !== 'directory' || !UUID_RE.test(chunk.name)) odd(c, chunk.kind);
    else if (!keys.holds(chunk.name)) stale(c, chunk.kind);
    else
      for (const table of listDir(repoDir, c)) {
        const t = [...c, table.name];
        if (table.kind !== 'directory' || !IDENT_RE.test(table.name)) odd(t, table.kind);
        else if (!keys.holds(`${chunk.name}/${table.name}`)) stale(t, table.kind);
        else
          for (const cid of listDir(repoDir, t)) {
            const v = [...t, cid.name];
            const files = /^\d+$/.test(cid.name) ? keys.names(entryKey(chunk.name, table.name, Number(cid.name))) : undefined;
            // A killed run's staging copy, or a copy an older --force left aside: the next backup removes it.
            if (cid.kind === 'directory' && /^\.(staging|old)-\d+-/.test(cid.name)) stale(v, cid.kind);
            else if (cid.kind !== 'directory' || !/^\d+$/.test(cid.name)) odd(v, cid.kind);
            else if (!files) stale(v, cid.kind);
            else for (const f of listDir(repoDir, v)) if (f.kind !== 'file' || !files.includes(f.name)) odd([...v, f.name], f.kind);
          }
      }
  }
}
