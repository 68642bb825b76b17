/**
 * Test-only fault layer under chunkvault's write side (src/common/fsio.ts), in the spirit of
 * restic's test backends and pgBackRest's shims. Load it into a CLI process with
 *
 *   CV_FAULTS='<json>' node --import ./test/support/fault-layer.mjs dist/bundle/cli.js ...
 *
 * `--import` preloads run in every worker thread too (verified on Node 20: piscina's workers
 * inherit process.execArgv), so the copy workers are covered; background jobs inherit execArgv and
 * the environment as well. Without CV_FAULTS it does nothing. CV_FAULTS is one JSON object:
 *
 *   match         substring of a file path; write faults apply only to files whose path has it
 *   failNthWrite  the N-th write (counted per thread, on matching files) throws EIO
 *   shortWrites   every write on matching files lands at most a third of what was asked (>= 1 byte)
 *   enospcAtByte  matching files (per thread, cumulated) take N bytes: the write that reaches N is
 *                 cut short there, the next throws ENOSPC (what a full disk does)
 *   dir           a directory for the op log (io.log), durability-point claims (syncs/) and the
 *                 stash (stash/) that keeps what a rename or removal replaced; with it every
 *                 durability point is counted across all threads
 *   crashAtSync   with dir: right after the K-th durability point (counted across threads, in the
 *                 order they started), log it and SIGKILL the process. test/support/crash.ts then
 *                 rolls back, from the log, everything that was not yet durable.
 *   crashBeforeSync  the same, just before the K-th durability point's fsync runs
 *
 * The crash model (what test/support/crash.ts assumes; lazyfs-like, pessimistic):
 * - A file's contents are durable up to its size at its last fsync/fdatasync; more is lost. A
 *   file this process created and never synced is empty. Files here are write-once or append-only,
 *   so a size is all that needs recording.
 * - A name operation (create, mkdir, link, rename, unlink, rmtree) is durable once its directory
 *   (for a rename: both directories) is fsynced after it; otherwise it is undone, newest first.
 *   Directories are identified by inode, so a staging directory renamed into place stays the same.
 * - Only calls through fsio are seen. A name changed with raw `fs` is neither logged nor undone.
 * - Ops are logged before they happen and syncs after they complete, each as one O_APPEND write,
 *   so lines from all threads keep one order. Two threads racing on one directory can make an op
 *   look durable a few microseconds early; the suite uses one copy worker.
 * - The kernel here has no device-mapper: power loss below the file system is not simulated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';

const cfg = process.env.CV_FAULTS ? JSON.parse(process.env.CV_FAULTS) : undefined;

// src/common/fsio.ts takes its hooks from here when it loads, in either build layout.
if (cfg) globalThis[Symbol.for('chunkvault.ioHooks')] = makeHooks(cfg);

function makeHooks(c) {
  const paths = new Map(); // fd -> path, for files opened through fsio
  const created = new Set(); // paths this thread created (copyFileTo creates before it opens)
  const pending = new Map(); // fd -> number of the durability point in progress on it
  let writes = 0;
  let bytes = 0;
  const logFd = c.dir ? openLog(c.dir) : undefined;
  const matches = (fd) => !c.match || (paths.get(fd) ?? '').includes(c.match);
  const log = (rec) => logFd !== undefined && fs.writeSync(logFd, JSON.stringify({ t: threadId, ...rec }) + '\n');
  return {
    opened(fd, file, isNew) {
      paths.set(fd, file);
      const fresh = created.delete(file) || isNew;
      log({ op: 'open', path: file, ino: fs.fstatSync(fd).ino, created: fresh, size: fresh ? 0 : fs.fstatSync(fd).size });
    },
    closed(fd) {
      paths.delete(fd);
    },
    write(fd, length) {
      if (!matches(fd)) return length;
      writes++;
      if (c.failNthWrite === writes) throw errno('EIO', 'i/o error (injected)', paths.get(fd));
      let n = c.shortWrites ? Math.max(1, Math.floor(length / 3)) : length;
      if (c.enospcAtByte !== undefined) {
        if (bytes >= c.enospcAtByte) throw errno('ENOSPC', 'no space left on device (injected)', paths.get(fd));
        n = Math.min(n, c.enospcAtByte - bytes);
      }
      bytes += n;
      return n;
    },
    sync(fd) {
      if (logFd === undefined) return;
      const k = claimSync(c.dir);
      pending.set(fd, k);
      if (c.crashBeforeSync === k) {
        log({ op: 'crash', k });
        process.kill(process.pid, 'SIGKILL');
      }
    },
    synced(fd, isDir) {
      if (logFd === undefined) return;
      const st = fs.fstatSync(fd);
      const k = pending.get(fd);
      pending.delete(fd);
      log({ op: 'sync', k, ino: st.ino, dir: isDir, size: st.size });
      if (c.crashAtSync === k) {
        log({ op: 'crash', k });
        process.kill(process.pid, 'SIGKILL');
      }
    },
    entry(op, p, to) {
      if (op === 'create') created.add(p);
      if (logFd === undefined) return;
      const rec = { op, path: p, pino: inoOf(path.dirname(p)) };
      if (to !== undefined) Object.assign(rec, { to, pto: inoOf(path.dirname(to)) });
      const victim = op === 'rename' ? to : op === 'unlink' || op === 'rmtree' ? p : undefined;
      if (victim !== undefined && fs.lstatSync(victim, { throwIfNoEntry: false })) rec.saved = stash(c.dir, victim, op === 'rmtree');
      log(rec);
    },
  };
}

function openLog(dir) {
  fs.mkdirSync(path.join(dir, 'syncs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'stash'), { recursive: true });
  return fs.openSync(path.join(dir, 'io.log'), 'a');
}

let lastClaim = 0;
/** The next durability point's number across every thread and process: claimed by creating syncs/<k> exclusively. */
function claimSync(dir) {
  for (let k = lastClaim + 1; ; k++) {
    try {
      fs.closeSync(fs.openSync(path.join(dir, 'syncs', String(k)), 'wx'));
      return (lastClaim = k);
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
  }
}

let stashed = 0;
/**
 * Keeps what an op is about to replace or remove: a file by a hard link (same inode, so its
 * recorded sizes still apply), a tree by moving it aside (the op then removes nothing, same effect).
 */
function stash(dir, victim, isTree) {
  const to = path.join(dir, 'stash', `${process.pid}-${threadId}-${++stashed}`);
  if (isTree) fs.renameSync(victim, to);
  else if (fs.lstatSync(victim).isDirectory()) return undefined; // rename over an empty directory: nothing to keep
  else fs.linkSync(victim, to);
  return to;
}

function inoOf(p) {
  return fs.lstatSync(p, { throwIfNoEntry: false })?.ino;
}

function errno(code, message, p) {
  return Object.assign(new Error(`${code}: ${message}, write '${p}'`), { code, path: p });
}
