import fs from 'node:fs';
import path from 'node:path';
import { CvError, corrupt, fromSystemError, notFound } from '../common/errors.js';
import { writeFileAtomic } from '../common/durable.js';
import { sealJson, unsealJson } from './sealed-json.js';
import { makeDir, makeDirs, removeTreeAsync, renamePath, renamePathAsync, syncDir, syncDirAsync } from '../common/fsio.js';
import { LockFile } from '../common/lockfile.js';
import { dbNameOf } from '../store/index.js';
import { advanceCursor, readState, type CheckCoverage, type CheckState, type RunReach } from './check-state.js';
import { scanExtras, type RepoExtras } from './extras.js';
import { Journal, readJournals, type JournalRecord } from './journal.js';
import { listPointIds, resolvePoint, writeManifest, type Manifest } from './manifest.js';
import { executePrune, planPrune, type PrunePlan } from './prune.js';
import { ensureDirs, entryKind, kindOf, listDir, readRegularFile, removeEntry, walkDirs, wrongKind } from './safe-fs.js';
import { checkFileName } from './names.js';
import { PackedStore } from './packed.js';
import { listS3Repositories } from './s3-repos.js';
import { endpointQueueId, isS3Url, s3Spec, type RepoLock } from './backend/index.js';
import { PLAIN_CODEC, type BlobCodecSpec } from './codec/index.js';
import { toManifestEntry } from './pack-format.js';
import { executePackPrune, planPackPrune, type PackPrunePlan } from './pack-prune.js';
import { scanPackExtras } from './pack-extras.js';

/** Repository layout: 1 is the file mirror (repo.json format 2), 2 is packs (repo.json format 3). */
export type RepoFormat = 1 | 2;

/**
 * One database's backup repository: `<backupDir>/<dbName>/`, holding restore points, the data of
 * every (chunkId, table, cid) stored once, per-run journals and the writer lock. Every path inside
 * it goes through safe-fs: no link is followed, no FIFO opened, no file read that is not regular.
 */
export class Repository {
  readonly dir: string;
  /** Set for a repository v2: everything goes through its backend. */
  packs: PackedStore | undefined;
  private constructor(
    readonly backupDir: string,
    readonly dbPath: string,
  ) {
    this.dir = isS3Url(backupDir) ? `${backupDir.replace(/\/+$/, '')}/${dbNameOf(dbPath)}` : path.join(backupDir, dbNameOf(dbPath));
  }

  /** The I/O queue the repository's objects go through: its S3 endpoint's; undefined for a local disk (diskOf(dir)). */
  get ioQueue(): string | undefined {
    return this.packs?.backendSpec.kind === 's3' ? endpointQueueId(this.packs.backendSpec) : undefined;
  }

  get format(): RepoFormat {
    return this.packs ? 2 : 1;
  }

  /**
   * Opens (creating if asked) the repository; refuses a symlinked or foreign directory. A new
   * repository is v2 (packs) unless `newFormat` says 1; an existing one keeps its format.
   */
  static open(backupDir: string, dbPath: string, create: boolean, newFormat: RepoFormat = 2): Repository {
    if (isS3Url(backupDir)) return Repository.openS3(backupDir, dbPath, create);
    const r = new Repository(path.resolve(backupDir), dbPath);
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
    if (entryKind(r.dir, ['repo.json'])) {
      const info = readRepoInfo(r.dir);
      if (info.dbPath !== dbPath) throw new CvError('CONFLICT', `${r.dir} holds a backup of ${info.dbPath}, not ${dbPath}`);
      if (info.codec) r.packs = new PackedStore({ kind: 'local', root: r.dir }, info.codec);
    } else if (create && newFormat === 1) writeFileAtomic(path.join(r.dir, 'repo.json'), sealJson({ format: 2, dbPath, created: new Date().toISOString() }));
    else if (create) {
      const codec = PLAIN_CODEC;
      r.packs = new PackedStore({ kind: 'local', root: r.dir }, codec);
      r.packs.backend.write('repo.json', Buffer.from(sealJson({ format: 3, dbPath, created: new Date().toISOString(), compression: codec.compression, encryption: codec.encryption })));
    } else throw notFound(`no backup of ${dbPath} in ${r.backupDir}`);
    return r;
  }

  /** An S3 repository is always v2: repo.json, points, index and packs are objects under `<prefix>/<db>/`. */
  private static openS3(url: string, dbPath: string, create: boolean): Repository {
    const r = new Repository(url, dbPath);
    const spec = s3Spec(url, dbNameOf(dbPath));
    const probe = new PackedStore(spec, PLAIN_CODEC);
    const buf = probe.backend.read('repo.json');
    if (buf !== undefined) {
      const info = parseRepoInfo(Buffer.from(buf), `${r.dir}/repo.json`);
      if (info.dbPath !== dbPath) throw new CvError('CONFLICT', `${r.dir} holds a backup of ${info.dbPath}, not ${dbPath}`);
      if (!info.codec) throw corrupt(`${r.dir}/repo.json describes a v1 repository, which S3 cannot hold`);
      r.packs = new PackedStore(spec, info.codec);
    } else if (create) {
      r.packs = probe;
      const desc = sealJson({ format: 3, dbPath, created: new Date().toISOString(), compression: PLAIN_CODEC.compression, encryption: PLAIN_CODEC.encryption });
      try {
        probe.backend.write('repo.json', Buffer.from(desc), { createOnly: true });
      } catch (err) {
        if (!(err instanceof CvError && err.code === 'CONFLICT')) throw err;
        return Repository.openS3(url, dbPath, false); // a concurrent first backup created it
      }
    } else throw notFound(`no backup of ${dbPath} in ${url}`);
    return r;
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
  commitPoint(m: Manifest): void {
    if (this.packs) this.packs.writePoint(m);
    else writeManifest(this.dir, m);
  }

  /**
   * Every journal a run left (records and files): a rerun does not copy what they vouch for. In
   * v2 the pack index is the journal: every indexed entry is durable and may be referenced.
   */
  journals(): { records: Map<string, JournalRecord>; files: string[] } {
    if (this.packs) return { records: new Map([...this.packs.locations()].map(([key, l]) => [key, { key, entry: toManifestEntry(l.entry) }])), files: [] };
    return readJournals(this.dir);
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
    if (this.packs) return scanPackExtras(this.packs, this.points().map((id) => this.point(id)));
    return scanExtras(this.dir, this.points().map((id) => this.point(id)), this.journals().records.values());
  }

  /** The cursors of time-boxed checks; damaged content only costs a fresh pass. */
  checkState(): CheckState {
    if (this.ioQueue) throw new CvError('USAGE', `--sample and --max-duration keep a cursor beside the repository, which an S3 repository (${this.dir}) does not support yet`);
    return readState(this.dir);
  }
  advanceCheckCursor(state: CheckState, reach: RunReach): CheckCoverage {
    return advanceCursor(this.dir, state, reach);
  }
  latest(): Manifest | undefined {
    return this.points().length ? this.point() : undefined;
  }

  /** The latest restore point, or the one --as-of names; refuses one that describes another database. */
  point(asOf?: string): Manifest {
    const m = this.packs ? this.packs.resolve(asOf) : resolvePoint(this.dir, asOf);
    if (m.dbPath !== this.dbPath) throw new CvError('CORRUPT', `restore point ${m.pointId} in ${this.dir} describes ${m.dbPath}, not ${this.dbPath}`);
    return m;
  }

  /**
   * Where the files of one (chunkId, table, cid) live; directories on the way must be real. A copy
   * that an older version's --force left aside (`.old-<cid>-*`, its replacement never renamed in)
   * is read in place, so every reader sees the entry without waiting for a backup to recover it.
   */
  dataDir(chunkId: string, table: string, cid: number): string {
    const rel = ['data', chunkId, table, String(cid)];
    const dir = walkDirs(this.dir, rel);
    if (dir !== undefined) return dir;
    const aside = listDir(this.dir, rel.slice(0, 3)).find((e) => e.kind === 'directory' && e.name.startsWith(`.old-${cid}-`));
    return path.join(this.dir, ...(aside ? [...rel.slice(0, 3), aside.name] : rel));
  }
  hasData(chunkId: string, table: string, cid: number): boolean {
    if (this.packs) return this.packs.locations().has(`${chunkId}/${table}/${cid}`);
    return fs.lstatSync(this.dataDir(chunkId, table, cid), { throwIfNoEntry: false }) !== undefined;
  }
  /** The paths of an entry's files, in the manifest's order, for a reader (restore, check). */
  entryFiles(chunkId: string, table: string, e: { cid: number; files: { name: string }[] }): string[] {
    const dir = this.dataDir(chunkId, table, e.cid);
    return e.files.map((f) => path.join(dir, checkFileName(f.name)));
  }

  /** A private staging directory for one copy, and the paths its files go to; publish() moves it into place. */
  async stage(chunkId: string, table: string, cid: number, runId: string, names: string[]): Promise<{ dir: string; files: string[] }> {
    // No flush here: publish flushes every level up to data/ once the copy is in place.
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
   * directory never disappears from a restore point that shares it.
   * Async throughout: the event loop keeps feeding the workers while directories are flushed.
   */
  async publish(staging: string, chunkId: string, table: string, cid: number): Promise<void> {
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
    // The table and chunk directories may be new too: flush every level up to data/.
    await Promise.all([parent, path.dirname(parent), path.dirname(path.dirname(parent))].map(syncDirAsync));
  }

  /**
   * Undoes what a killed run left half-done: staging copies are removed, and an old copy whose
   * replacement never landed (left by an older version's --force) is put back. Only real
   * directories are looked into; anything else is left for check to report.
   */
  recover(): void {
    const dirs = (rel: string[]) => listDir(this.dir, rel).filter((e) => e.kind === 'directory');
    for (const chunk of dirs(['data']))
      for (const table of dirs(['data', chunk.name])) {
        const rel = ['data', chunk.name, table.name];
        for (const e of listDir(this.dir, rel)) {
          const old = /^\.old-(\d+)-/.exec(e.name);
          if (old && e.kind === 'directory' && !entryKind(this.dir, [...rel, old[1]!])) {
            const dir = walkDirs(this.dir, rel)!;
            renamePath(path.join(dir, e.name), path.join(dir, old[1]!));
          } else if (old || e.name.startsWith('.staging-')) removeEntry(this.dir, [...rel, e.name]);
        }
      }
  }
}

/**
 * The dbPath a repository's repo.json names, and for a v2 repository (format 3) its codec; anything
 * but a regular file of that shape is CORRUPT. repo.json carries a checksum of its content like a
 * manifest (sealed-json.ts): an edit is CORRUPT.
 */
function readRepoInfo(dir: string): { dbPath: string; codec?: BlobCodecSpec } {
  const file = path.join(dir, 'repo.json');
  const buf = readRegularFile(dir, ['repo.json']);
  if (buf === undefined) throw notFound(`repository description ${file} does not exist`);
  return parseRepoInfo(buf, file);
}

function parseRepoInfo(buf: Buffer, file: string): { dbPath: string; codec?: BlobCodecSpec } {
  const meta = unsealJson(buf.toString('utf8'), `repository description ${file}`);
  if ((meta.format !== 2 && meta.format !== 3) || typeof meta.dbPath !== 'string') throw corrupt(`${file} is not a chunkvault repository description`);
  if (meta.format === 2) return { dbPath: meta.dbPath };
  const { compression, encryption } = meta;
  if (!['off', 'fast', 'default', 'max'].includes(compression as string) || !['none', 'aes-256-gcm'].includes(encryption as string)) throw corrupt(`${file} names an unknown compression or encryption`);
  return { dbPath: meta.dbPath, codec: { compression, encryption } as BlobCodecSpec };
}

/** The databases backed up in backupDir: every real subdirectory with a repo.json. */
export function listRepositories(backupDir: string): string[] {
  if (isS3Url(backupDir)) return listS3Repositories(backupDir);
  if (!fs.existsSync(backupDir)) throw notFound(`backup directory ${backupDir} does not exist`);
  const root = path.resolve(backupDir);
  return listDir(root, [])
    .filter((e) => e.kind === 'directory' && entryKind(root, [e.name, 'repo.json']))
    .map((e) => readRepoInfo(path.join(root, e.name)).dbPath)
    .sort();
}
