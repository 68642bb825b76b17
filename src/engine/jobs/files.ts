import fs from 'node:fs';
import path from 'node:path';
import { CvError, fromSystemError } from '../../common/errors.js';
import { closeFile, makeDir, openFile, syncDir, syncFile, writeAll } from '../../common/fsio.js';

const { O_WRONLY, O_CREAT, O_NOFOLLOW, O_APPEND, O_RDONLY, O_NONBLOCK } = fs.constants;

/**
 * Where jobs live in a cluster home. Both directories are shared by every user who runs jobs:
 * mode 1777 (sticky) lets each user create files there while nobody can rename or delete another
 * user's files; the files themselves are 0600.
 */
export const jobsDir = (home: string) => path.join(home, 'jobs');
export const logsDir = (home: string) => path.join(home, 'batchJobs');
export const recordFile = (home: string, id: string) => path.join(jobsDir(home), `${id}.json`);
export const msgFile = (home: string, id: string) => path.join(logsDir(home), `${id}.msg`);
export const outFile = (home: string, id: string) => path.join(logsDir(home), `${id}.out`);
export const controlFile = (home: string, id: string, uid: number) => path.join(jobsDir(home), `${id}.ctl-${uid}`);

export const SHARED_DIR_MODE = 0o1777;

/**
 * Makes the shared directories exist with mode 1777. Only their owner (or root) can fix the mode of
 * an existing directory; anyone else gets on with whatever mode it has.
 */
export function ensureJobDirs(home: string): void {
  for (const dir of [jobsDir(home), logsDir(home)]) {
    let st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) {
      try {
        makeDir(dir);
        syncDir(home);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(err, `cannot create ${dir}`);
      }
      st = fs.lstatSync(dir);
    }
    if (!st.isDirectory()) throw new CvError('CORRUPT', `${dir} is not a directory (symbolic links are not followed)`);
    const me = process.getuid?.() ?? -1;
    if ((st.mode & 0o7777) !== SHARED_DIR_MODE && (me === 0 || me === st.uid)) fs.chmodSync(dir, SHARED_DIR_MODE);
  }
}

/**
 * Reads a small file without following a symlink or blocking on a FIFO; with `owner`, refuses a
 * file that another uid created (in a shared directory anyone can plant a file under any name).
 */
export function readOwned(file: string, owner?: number): { text: string; uid: number; mtimeMs: number } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'EACCES' || code === 'EPERM') return undefined;
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > 4 << 20) return undefined;
    if (owner !== undefined && st.uid !== owner) return undefined;
    return { text: fs.readFileSync(fd, 'utf8'), uid: st.uid, mtimeMs: st.mtimeMs };
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends one line to a private log: created 0600 by its first writer, never through a symlink. */
export function appendPrivateLine(file: string, line: string): void {
  const fd = openFile(file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== (process.getuid?.() ?? st.uid)) throw new CvError('CORRUPT', `${file} is not this user's job log`);
    writeAll(fd, Buffer.from(line.endsWith('\n') ? line : line + '\n'));
    syncFile(fd);
  } finally {
    closeFile(fd);
  }
}
