import fs from 'node:fs';
import path from 'node:path';
import { CvError, corrupt, fromSystemError, notFound, usage } from '../common/errors.js';
import { writeFileAtomic } from '../common/durable.js';
import { sealJson } from './sealed-json.js';
import { makeDir, makeDirs, removeTreeAsync, renamePathAsync, syncDir, syncDirAsync } from '../common/fsio.js';
import { LockFile } from '../common/lockfile.js';
import { advanceCursor, cursorPlace, readState, type CheckCoverage, type CheckState, type RunReach } from './check-state.js';
import { ReferencedFiles, scanExtras, type RepoExtras } from './extras.js';
import { Journal, readJournals, type JournalRecords } from './journal.js';
import { entryKey, listPointIds, ofDatabase, resolvePoint, writeManifest, type Manifest, type ManifestHead, type ManifestToWrite, type ManifestPartition } from './manifest.js';
import { keysInto, pickManifest, pointIdIn, scanManifest, type Pick } from './manifest-scan.js';
import { executePrune, planPrune, type PrunePlan } from './prune.js';
import { ensureDirs, entryKind, kindOf, removeEntry, walkDirs, warmPaths, wrongKind } from './safe-fs.js';
import { checkFileName } from './names.js';
import { entryDir, filesIn, recoverEntries } from './v1-entries.js';
import { PackedStore } from './packed.js';
import { PLAIN_CODEC, codecFor } from './codec/index.js';
import { deriveSettingsKeyAhead, isNewDirectory, listRepositoriesIn, once, openSettings, readRepoJson, repoDirName, repoJsonBytes, runSpec, type DirSettings, type RepoAccess } from './settings.js';
import { executePackPrune, planPackPrune, type PackPrunePlan } from './pack-prune.js';
import { scanPackExtras } from './pack-extras.js';
import { openS3Store } from './s3-repos.js';
import { endpointQueueId, isS3Url, type RepoLock } from './backend/index.js';

/** Repository layout: 1 is the file mirror (repo.json format 2), 2 is packs (repo.json format 3). */
export type RepoFormat = 1 | 2;

/** A new unencrypted repository's format when none is named: v1, though v2 now scales as well (docs/FORMAT.md, "Who writes the config", says why). */
export const NEW_REPO_FORMAT: RepoFormat = 1;

/** What open() may create. v1 can neither compress nor encrypt: compression makes it v2, and a password a new directory. */
function newFormatOf(root: string, create: boolean, format: RepoFormat | undefined, access: RepoAccess): RepoFormat {
  return format ?? (create && (access.compression || (isNewDirectory(root) && access.password?.())) ? 2 : NEW_REPO_FORMAT);
}

/**
 * One database's backup repository: `<backupDir>/<dbName>/` (a keyed hash of the dbPath in an
 * encrypted directory: settings.ts), holding restore points, the data of every (chunkId, table,
 * cid) stored once, per-run journals and the writer lock. Every path inside it goes through
 * safe-fs: no link is followed, no FIFO opened, no file read that is not regular.
 */
export class Repository {
  /** Set for a repository v2: everything goes through its backend. */
  packs: PackedStore | undefined;
  private constructor(
    readonly backupDir: string,
    readonly dbPath: string,
    readonly dir: string,
  ) {}

  /** The I/O queue the repository's objects go through: its S3 endpoint's; undefined for a local disk (diskOf(dir)). */
  get ioQueue(): string | undefined {
    return this.packs?.backendSpec.kind === 's3' ? endpointQueueId(this.packs.backendSpec) : undefined;
  }

  get format(): RepoFormat {
    return this.packs ? 2 : 1;
  }

  /**
   * Opens (creating if asked) the repository; refuses a symlinked or foreign directory. In a
   * directory with a config (docs/FORMAT.md, "One backup directory, one config") every repository
   * is v2 with the config's codec, and `create` into a new or empty directory writes that config
   * first when the new format is 2. Elsewhere a new repository has `format` (default: 2 when a
   * password or a compression is given, else NEW_REPO_FORMAT); an existing one keeps its format.
   */
  static open(backupDir: string, dbPath: string, create: boolean, format?: RepoFormat, opened: RepoAccess = {}): Repository {
    const access = { ...opened, password: once(opened.password) };
    if (isS3Url(backupDir)) {
      // Always v2. A password makes a new prefix an encrypted one (config and keys/ under the prefix,
      // FORMAT.md "S3 repositories"); without one a new prefix has no config, each repo.json its codec.
      const settings = openSettings(backupDir, access, create && isNewDirectory(backupDir) && !!access.password());
      const name = repoDirName(settings, dbPath);
      const r = new Repository(backupDir, dbPath, `${backupDir.replace(/\/+$/, '')}/${name}`);
      r.packs = openS3Store(backupDir, name, dbPath, create, access, settings);
      return r;
    }
    const root = path.resolve(backupDir);
    const newFormat = newFormatOf(root, create, format, access);
    // The key is opened before anything is created: a wrong password changes nothing.
    const settings = openSettings(root, access, create && newFormat === 2);
    const r = new Repository(root, dbPath, path.join(root, repoDirName(settings, dbPath)));
    try {
      // backupDir is the operator's own path (it may be a link); only what is inside it is untrusted.
      if (create) {
        makeDirs(r.backupDir);
        // Non-recursive, so a read-only or full file system reports its own error, not ENOENT.
        if (!fs.lstatSync(r.dir, { throwIfNoEntry: false }) && makeDir(r.dir)) syncDir(r.backupDir);
      }
    } catch (err) {
      throw fromSystemError(err, `cannot create backup directory ${r.dir}`);
    }
    const st = fs.lstatSync(r.dir, { throwIfNoEntry: false });
    if (!st) {
      if (!fs.existsSync(r.backupDir)) throw notFound(`backup directory ${r.backupDir} does not exist`);
      throw notFound(`no backup of ${dbPath} in ${r.backupDir}`);
    }
    if (!st.isDirectory()) throw wrongKind(r.dir, kindOf(st), 'directory');
    r.describe(settings, create, newFormat, access);
    return r;
  }

  /** Starts open()'s key derivation on libuv's pool (key-derive.ts); `access.password` must be open()'s, wrapped in once(). */
  static deriveAhead(backupDir: string, create: boolean, format: RepoFormat | undefined, access: RepoAccess): Promise<void> | undefined {
    const root = path.resolve(backupDir);
    return isS3Url(backupDir) ? undefined : deriveSettingsKeyAhead(root, access, create && newFormatOf(root, create, format, access) === 2);
  }

  /** Reads repo.json (or, creating, writes it) and sets up the v2 store with its codec. */
  private describe(settings: DirSettings | undefined, create: boolean, newFormat: RepoFormat, access: RepoAccess): void {
    const backend = { kind: 'local' as const, root: this.dir };
    const dirCodec = settings && codecFor(settings.spec);
    if (entryKind(this.dir, ['repo.json'])) {
      const info = readRepoJson(this.dir, dirCodec);
      // Encrypted, the directory's name is the keyed hash of its dbPath: another dbPath inside is tampering.
      if (info.dbPath !== this.dbPath) throw new CvError(settings?.spec.masterKey ? 'CORRUPT' : 'CONFLICT', `${this.dir} holds a backup of ${info.dbPath}, not ${this.dbPath}`);
      if (info.codec?.encryption === 'aes-256-gcm' && !settings) throw corrupt(`${this.dir} says it is encrypted, but ${this.backupDir} has no config (and so no keys)`);
      if (info.codec) this.packs = new PackedStore(backend, runSpec(settings?.spec ?? info.codec, access));
      else if (access.compression) throw usage(`${this.dir} is a v1 repository: it stores files as they are (--compression needs a v2 repository)`);
    } else if (!create) throw notFound(`no backup of ${this.dbPath} in ${this.backupDir}`);
    else if (!settings && newFormat === 1) writeFileAtomic(path.join(this.dir, 'repo.json'), sealJson({ format: 2, dbPath: this.dbPath, created: new Date().toISOString() }));
    else {
      const spec = settings?.spec ?? { ...PLAIN_CODEC, compression: access.compression ?? 'default' };
      this.packs = new PackedStore(backend, runSpec(spec, access));
      this.packs.backend.write('repo.json', repoJsonBytes(this.dbPath, codecFor(spec)));
    }
  }

  /** One writer per repository: fails fast naming the holder; a dead holder's lock is taken over. */
  lock(holder: string): RepoLock {
    if (this.packs) return this.packs.backend.lock(holder, `backup repository ${this.dir}`);
    // A lock that is not a regular file was planted: taking it over would delete what is there.
    const kind = entryKind(this.dir, ['lock']);
    if (kind && kind !== 'file') throw wrongKind(path.join(this.dir, 'lock'), kind, 'file');
    return LockFile.acquire(path.join(this.dir, 'lock'), { holder, waitMs: 0, what: `backup repository ${this.dir}` });
  }

  points(): string[] {
    return this.packs ? this.packs.pointIds() : listPointIds(this.dir);
  }

  /** Commits a restore point (the commit point of a backup: see FORMAT.md, durability invariants). */
  commitPoint(m: ManifestToWrite): void {
    if (this.packs) this.packs.writePoint(m);
    else writeManifest(this.dir, m);
  }

  /**
   * Every journal a run left (records and files): a rerun does not copy what they vouch for. In
   * v2 the pack index is the journal: every indexed entry is durable and may be referenced.
   */
  journals(): { records: JournalRecords; files: string[] } {
    return this.packs ? { records: this.packs.journalRecords(), files: [] } : readJournals(this.dir);
  }
  openJournal(runId: string): Journal {
    return new Journal(this.dir, runId);
  }
  /** Called once the point that covers them is committed. */
  removeJournals(files: string[]): void {
    for (const f of files) removeEntry(this.dir, ['journal', path.basename(f)]);
  }

  /** `keep`: the newest N points, or the ids a retention policy keeps. */
  planPrune(keep: number | ReadonlySet<string>, maxUnused?: number): PrunePlan | PackPrunePlan {
    if (this.packs) return planPackPrune(this.packs, keep, maxUnused);
    return planPrune(this.dir, this.points(), keep);
  }
  executePrune(plan: PrunePlan | PackPrunePlan): void {
    if ('packsRemoved' in plan) executePackPrune(this.packs!, plan);
    else executePrune(this.dir, plan);
  }

  /** What no layout rule or restore point explains (check lists them). */
  extras(): RepoExtras {
    // One point at a time: only the keys (v2, read from partition summaries) or names (v1, extras.ts) each entry references are kept.
    if (this.packs) return scanPackExtras(this.packs, (live) => this.points().forEach((id) => this.pickPoint(id, keysInto(live))));
    const keys = new ReferencedFiles();
    for (const id of this.points()) this.scanPoint(id, (p) => Object.entries(p.tables).forEach(([t, e]) => keys.add(entryKey(p.chunkId, t, e.cid), e.files)));
    for (const r of this.journals().records.values()) keys.add(r.key, r.entry.files);
    return scanExtras(this.dir, keys);
  }

  /** The cursors of time-boxed checks; damaged content only costs a fresh pass. */
  checkState(): CheckState {
    return readState(cursorPlace(this.dir, this.packs?.backend), this.packs?.codec);
  }
  advanceCheckCursor(state: CheckState, reach: RunReach): CheckCoverage {
    return advanceCursor(cursorPlace(this.dir, this.packs?.backend), state, reach, this.packs?.codec);
  }

  /** The latest restore point, or the one --as-of names; refuses one that describes another database. */
  point(asOf?: string): Manifest {
    return ofDatabase(this.packs ? this.packs.resolve(asOf) : resolvePoint(this.dir, asOf), this.dbPath, this.dir);
  }

  /** point() a partition at a time: each goes to `each`; the head returns once all passed the checks (manifest-scan.ts). */
  scanPoint(asOf: string | undefined, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
    return ofDatabase(this.packs ? this.packs.scanPoint(asOf, each) : scanManifest(this.dir, pointIdIn(this.dir, this.points(), asOf), each), this.dbPath, this.dir);
  }

  /** scanPoint of the point `id`, one an earlier scan of this repository returned (so a later backup does not change which). */
  scanPointId(id: string, each?: (p: ManifestPartition, line?: Buffer) => void): ManifestHead {
    return ofDatabase(this.packs ? this.packs.scanPointId(id, each) : scanManifest(this.dir, id, each), this.dbPath, this.dir);
  }

  /** scanPoint in one pass, for a reader that keeps a little of each partition: what `pick` kept, once all passed (pickManifest). */
  pickPoint<T>(asOf: string | undefined, pick: Pick<T>): { head: ManifestHead; picked: T[] } {
    const r = this.packs ? this.packs.pickPoint(asOf, pick) : pickManifest(this.dir, pointIdIn(this.dir, this.points(), asOf), pick);
    return { head: ofDatabase(r.head, this.dbPath, this.dir), picked: r.picked };
  }

  /** Looks the entries' directories up ahead (v1; safe-fs warmPaths), for a reader about to take them in this order. */
  warmEntries(keys: { chunkId: string; table: string; cid: number }[]): Promise<void> {
    return this.packs ? Promise.resolve() : warmPaths(this.dir, keys.map((k) => ['data', k.chunkId, k.table, String(k.cid)]));
  }
  /** Where the files of one (chunkId, table, cid) live (v1-entries.ts entryDir). */
  dataDir(chunkId: string, table: string, cid: number): string {
    return entryDir(this.dir, chunkId, table, cid);
  }
  /** What an entry takes in the repository: its blobs as stored in its own pack (v2; 0 when no index names it; deduplicated files take nothing), its files (v1). */
  storedBytes(chunkId: string, table: string, e: { cid: number; bytes: number }): number {
    return this.packs ? (this.packs.entries().summary(entryKey(chunkId, table, e.cid))?.stored ?? 0) : e.bytes;
  }
  hasData(chunkId: string, table: string, cid: number): boolean {
    return this.packs ? this.packs.entries().has(entryKey(chunkId, table, cid)) : fs.lstatSync(this.dataDir(chunkId, table, cid), { throwIfNoEntry: false }) !== undefined;
  }
  /** The paths of an entry's files, in the manifest's order, for a reader (restore, check). */
  entryFiles(chunkId: string, table: string, e: { cid: number; files: { name: string }[] }): string[] {
    return filesIn(this.dataDir(chunkId, table, e.cid), e.files);
  }
  /** entryFiles, or undefined when the repository lacks the entry (v1): hasData and entryFiles with one walk of the directories. */
  entryFilesIfPresent(chunkId: string, table: string, e: { cid: number; files: { name: string }[] }): string[] | undefined {
    const dir = this.dataDir(chunkId, table, e.cid);
    return fs.lstatSync(dir, { throwIfNoEntry: false }) === undefined ? undefined : filesIn(dir, e.files);
  }

  /** A private staging directory for one copy, and the paths its files go to; publish() moves it into place. */
  async stage(chunkId: string, table: string, cid: number, runId: string, names: string[]): Promise<{ dir: string; files: string[] }> {
    // No flush here: the levels up to data/ are flushed once the copy is published (publish returns them).
    const parent = ensureDirs(this.dir, ['data', chunkId, table], false);
    const name = `.staging-${cid}-${runId}`;
    removeEntry(parent, [name]);
    ensureDirs(parent, [name], false);
    const dir = path.join(parent, name);
    return { dir, files: names.map((n) => path.join(dir, checkFileName(n))) };
  }

  /**
   * Publishes a staged copy. A new entry is one directory rename. When data is already there
   * (--force), each staged file is renamed over its namesake: every rename is atomic, so at any
   * instant (a kill included) every file of the entry is a whole copy, old or new, and the entry
   * directory never disappears from a restore point that shares it. The renames are durable only
   * once the returned directories (every level up to data/) are flushed: the caller flushes a
   * group's at once (engine/backup-mirror.ts). Async: the event loop keeps feeding the workers.
   */
  async publish(staging: string, chunkId: string, table: string, cid: number): Promise<string[]> {
    const parent = walkDirs(this.dir, ['data', chunkId, table]);
    if (parent === undefined) throw corrupt(`the staging directory of ${chunkId}/${table}/${cid} in ${this.dir} vanished`);
    const final = path.join(parent, String(cid));
    const st = fs.lstatSync(final, { throwIfNoEntry: false });
    try {
      if (!st) await renamePathAsync(staging, final);
      else if (!st.isDirectory()) throw wrongKind(final, kindOf(st), 'directory');
      else {
        for (const f of await fs.promises.readdir(staging)) await renamePathAsync(path.join(staging, f), path.join(final, f));
        await syncDirAsync(final);
        await removeTreeAsync(staging);
      }
    } catch (err) {
      // Renaming a file onto a planted directory (EISDIR, ENOTEMPTY) is a malformed repository.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'ENOTDIR') throw corrupt(`cannot publish into ${final}: an entry there is not what the backup expects (${code})`);
      throw err;
    }
    // The table and chunk directories may be new too: every level up to data/.
    return [parent, path.dirname(parent), path.dirname(path.dirname(parent))];
  }

  /**
   * Undoes what a killed run left half-done: staging copies are removed, and an old copy whose
   * replacement never landed (left by an older version's --force) is put back. Only real
   * directories are looked into; anything else is left for check to report.
   */
  recover(): void {
    recoverEntries(this.dir);
  }
}

/** The databases backed up in backupDir (a directory or an S3 URL), by dbPath. */
export function listRepositories(backupDir: string, access: RepoAccess = {}): string[] {
  if (!isS3Url(backupDir) && !fs.existsSync(backupDir)) throw notFound(`backup directory ${backupDir} does not exist`);
  return listRepositoriesIn(backupDir, access);
}
