import fs from 'node:fs';
import path from 'node:path';
import { CvError, fromSystemError, notFound } from '../../common/errors.js';
import { fsyncDir, fsyncDirAsync, mkdirDurable, readJson, writeJsonAtomic } from '../../common/durable.js';
import { LockFile } from '../../common/lockfile.js';
import { dbNameOf } from '../../store/index.js';
import { listPointIds, resolvePoint, type Manifest } from './manifest.js';
import { checkRealDirs } from './names.js';

/**
 * One database's backup repository: `<backupDir>/<dbName>/`, holding restore points, the data of
 * every (chunkId, table, cid) stored once, per-run journals and the writer lock.
 */
export class Repository {
  readonly dir: string;
  private constructor(
    readonly backupDir: string,
    readonly dbPath: string,
  ) {
    this.dir = path.join(backupDir, dbNameOf(dbPath));
  }

  /** Opens (creating if asked) the repository; refuses a symlinked or foreign directory. */
  static open(backupDir: string, dbPath: string, create: boolean): Repository {
    const r = new Repository(path.resolve(backupDir), dbPath);
    try {
      if (create) {
        mkdirDurable(r.backupDir);
        // Non-recursive, so a read-only or full file system reports its own error, not ENOENT.
        if (!fs.existsSync(r.dir)) {
          fs.mkdirSync(r.dir);
          fsyncDir(r.backupDir);
        }
      }
    } catch (err) {
      throw fromSystemError(err, `cannot create backup directory ${r.dir}`);
    }
    const st = fs.lstatSync(r.dir, { throwIfNoEntry: false });
    if (!st) {
      if (!fs.existsSync(r.backupDir)) throw notFound(`backup directory ${r.backupDir} does not exist`);
      throw notFound(`no backup of ${dbPath} in ${r.backupDir}`);
    }
    if (!st.isDirectory()) throw new CvError('CORRUPT', `${r.dir} is not a directory (symbolic links are not followed)`);
    const info = path.join(r.dir, 'repo.json');
    if (fs.existsSync(info)) {
      const meta = readJson<{ dbPath?: string }>(info);
      if (meta.dbPath !== dbPath) throw new CvError('CONFLICT', `${r.dir} holds a backup of ${meta.dbPath}, not ${dbPath}`);
    } else if (create) writeJsonAtomic(info, { format: 1, dbPath, created: new Date().toISOString() });
    else throw notFound(`no backup of ${dbPath} in ${r.backupDir}`);
    return r;
  }

  /** One writer per repository: fails fast naming the holder; a dead holder's lock is taken over. */
  lock(holder: string): LockFile {
    return LockFile.acquire(path.join(this.dir, 'lock'), { holder, waitMs: 0, what: `backup repository ${this.dir}` });
  }

  points(): string[] {
    return listPointIds(this.dir);
  }
  latest(): Manifest | undefined {
    return this.points().length ? this.point() : undefined;
  }

  /** The latest restore point, or the one --as-of names; refuses one that describes another database. */
  point(asOf?: string): Manifest {
    const m = resolvePoint(this.dir, asOf);
    if (m.dbPath !== this.dbPath) throw new CvError('CORRUPT', `restore point ${m.pointId} in ${this.dir} describes ${m.dbPath}, not ${this.dbPath}`);
    return m;
  }

  /** Where the files of one (chunkId, table, cid) live; directories on the way must be real. */
  dataDir(chunkId: string, table: string, cid: number): string {
    return checkRealDirs(this.dir, ['data', chunkId, table, String(cid)]);
  }
  hasData(chunkId: string, table: string, cid: number): boolean {
    return fs.existsSync(this.dataDir(chunkId, table, cid));
  }
  async stagingDir(chunkId: string, table: string, cid: number, runId: string): Promise<string> {
    const parent = path.join(this.dir, 'data', chunkId, table);
    await fs.promises.mkdir(parent, { recursive: true });
    const dir = path.join(parent, `.staging-${cid}-${runId}`);
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.mkdir(dir);
    return dir;
  }

  /**
   * Publishes a staged copy. When data is already there (--force), the old directory is renamed
   * aside first and removed after, so every restore point that shares it sees the repaired copy.
   * Async throughout: the event loop keeps feeding the workers while directories are flushed.
   */
  async publish(staging: string, chunkId: string, table: string, cid: number): Promise<void> {
    const final = path.join(this.dir, 'data', chunkId, table, String(cid));
    const parent = path.dirname(final);
    let old: string | undefined;
    if (fs.existsSync(final)) {
      old = `${path.join(parent, `.old-${cid}`)}-${path.basename(staging)}`;
      await fs.promises.rename(final, old);
    }
    await fs.promises.rename(staging, final);
    // The table and chunk directories may be new too: flush every level up to data/.
    await Promise.all([parent, path.dirname(parent), path.dirname(path.dirname(parent))].map(fsyncDirAsync));
    if (old) await fs.promises.rm(old, { recursive: true, force: true });
  }

  /**
   * Undoes what a killed run left half-done: staging copies are removed and an old copy whose
   * replacement never landed is put back.
   */
  recover(): void {
    const data = path.join(this.dir, 'data');
    if (!fs.existsSync(data)) return;
    for (const chunk of fs.readdirSync(data))
      for (const table of safeReaddir(path.join(data, chunk))) {
        const dir = path.join(data, chunk, table);
        for (const e of safeReaddir(dir)) {
          const old = /^\.old-(\d+)-/.exec(e);
          if (old) {
            const final = path.join(dir, old[1]!);
            if (fs.existsSync(final)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
            else fs.renameSync(path.join(dir, e), final);
          } else if (e.startsWith('.staging-')) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
        }
      }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.lstatSync(dir).isDirectory() ? fs.readdirSync(dir) : [];
  } catch {
    return [];
  }
}

export function listRepositories(backupDir: string): string[] {
  if (!fs.existsSync(backupDir)) throw notFound(`backup directory ${backupDir} does not exist`);
  return fs
    .readdirSync(backupDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(backupDir, e.name, 'repo.json')))
    .map((e) => readJson<{ dbPath: string }>(path.join(backupDir, e.name, 'repo.json')).dbPath)
    .sort();
}
