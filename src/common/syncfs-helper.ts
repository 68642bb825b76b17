import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

/**
 * syncfs(2) for group durability without forking this process each time. Node has no syncfs
 * binding, so it runs coreutils `sync -f`; but spawning forks the whole process, and a restore's
 * process is large (copy workers, S3 agent threads, their buffers): page tables copied, every
 * page touched afterwards copied on write, the child's copy torn down at exec. In a profile of
 * `restore-db` from S3 (2.28 GB, 50 syncs) that was 5.5 of 15 CPU-s; with the helper 0.1.
 *
 * The helper is one small `sh`, started at the first sync (one fork), that runs `sync -f` for
 * each request; its own forks are cheap. Requests and replies go through two FIFOs so this
 * thread can wait synchronously (the FIFO files are removed once open). Request: one path per
 * line, then an empty line; reply: `sync`'s exit status. A helper serves one request at a time, so
 * a sync asked while every helper is waiting on an async one starts another helper, up to
 * MAX_HELPERS per thread: a restore's writeback kick (async) is often in flight when a group
 * commit syncs under its lock, and each such sync used to spawn `sync -f` itself, a fork of the
 * whole process blocking the event loop (restore-db of testdb_tsdb on the emulated seed disks:
 * 4 such forks from the main thread, 14-15 ms each under strace). A path with a newline, a helper
 * that does not start or that died (no more are started then), or all helpers busy: the caller
 * falls back to spawning `sync -f` itself.
 */
// The paths of one request are synced at once, one `sync -f` each (`sync -f a b` would flush them in
// turn: four emulated disks flushed one after another); the reply is 0 only when every one succeeded.
// The helper makes its own FIFOs (a failure leaves "$1.err"): a `mkfifo` spawned from here would be
// one more fork of this whole process per helper.
const SCRIPT =
  'mkfifo -m 600 "$1" "$2" || { : >"$1.err"; exit 1; }; exec 3<"$1" 4>"$2"; echo ready >&4; set --; while IFS= read -r p <&3; do if [ -z "$p" ]; then ' +
  'pids=; for d in "$@"; do sync -f "$d" 2>/dev/null & pids="$pids $!"; done; rc=0; for i in $pids; do wait $i || rc=1; done; ' +
  'echo $rc >&4; set --; else set -- "$@" "$p"; fi; done';
/** How long the helper may take to start before syncs spawn `sync -f` themselves. */
const START_MS = 5000;

interface Helper {
  req: number;
  rep: number;
  busy: boolean;
  dead: boolean;
}
/** One for the kick, one for a group commit's async sync, one for a sync under a lock. */
const MAX_HELPERS = 3;
let helpers: Helper[] = [];
/** Set once a helper failed to start or died: from then on, syncs spawn `sync -f` themselves. */
let givenUp = false;
const nap = new Int32Array(new SharedArrayBuffer(4));

function start(): Helper | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-syncfs-'));
  try {
    const [req, rep] = [path.join(dir, 'req'), path.join(dir, 'rep')];
    const child = spawn('sh', ['-c', SCRIPT, 'cv-syncfs', req, rep], { stdio: 'ignore' });
    let h: Helper | undefined;
    child.on('error', () => h && (h.dead = true));
    child.unref();
    if (!fifosWithin(req, rep, START_MS)) return null;
    // O_RDWR on the request FIFO and O_NONBLOCK on the reply FIFO: neither open waits for the helper.
    h = { req: fs.openSync(req, fs.constants.O_RDWR), rep: fs.openSync(rep, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK), busy: false, dead: false };
    if (replyWithin(h, START_MS, false) !== 'ready') return close(h);
    return h;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the helper has made both FIFOs; false if it reported a failure or took too long. */
function fifosWithin(req: string, rep: string, ms: number): boolean {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (fs.existsSync(`${req}.err`)) return false;
    if (fs.statSync(rep, { throwIfNoEntry: false })?.isFIFO() && fs.statSync(req, { throwIfNoEntry: false })?.isFIFO()) return true;
    Atomics.wait(nap, 0, 0, 1);
  }
  return false;
}

function close(h: Helper): null {
  h.dead = true;
  fs.closeSync(h.req);
  fs.closeSync(h.rep);
  return null;
}

/**
 * Reads one reply line, polling the non-blocking FIFO; undefined when the helper is gone or silent.
 * Before the helper has opened its end, the FIFO reads as at its end: `started` says whether that means gone.
 */
function replyWithin(h: Helper, ms: number, started = true): string | undefined {
  const buf = Buffer.alloc(64);
  let got = '';
  for (const end = Date.now() + ms; Date.now() < end && !h.dead; ) {
    const n = readSome(h, buf);
    if (n === 0 && started) return undefined;
    if (n > 0) {
      got += buf.toString('latin1', 0, n);
      if (got.endsWith('\n')) return got.trim();
    } else Atomics.wait(nap, 0, 0, 1);
  }
  return undefined;
}

/** Bytes read, 0 at end of file (no writer: the helper died or never came), -1 when none yet. */
function readSome(h: Helper, buf: Buffer): number {
  try {
    return fs.readSync(h.rep, buf, 0, buf.length, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return -1;
    throw err;
  }
}

function drop(h: Helper): void {
  close(h);
  givenUp = true;
  helpers = helpers.filter((x) => x !== h);
}

function request(dirs: string[]): Helper | undefined {
  if (dirs.length === 0 || dirs.some((d) => d.includes('\n') || d === '') || givenUp) return undefined;
  let h = helpers.find((x) => !x.busy && !x.dead);
  if (!h && helpers.length < MAX_HELPERS) {
    const started = start();
    if (!started) return void (givenUp = true);
    helpers.push((h = started));
  }
  if (!h) return undefined;
  fs.writeSync(h.req, `${dirs.join('\n')}\n\n`);
  return h;
}

const spawnedSync = (dirs: string[]) => spawnSync('sync', ['-f', ...dirs], { stdio: 'ignore' }).status === 0;

/** syncfs of each directory's file system; false when `sync -f` fails. */
export function syncfs(dirs: string[]): boolean {
  const h = request(dirs);
  if (!h) return spawnedSync(dirs);
  // A sync never takes an hour; past that the helper is taken for hung and dropped.
  const r = replyWithin(h, 3600_000);
  if (r === undefined) {
    drop(h);
    return spawnedSync(dirs);
  }
  return r === '0';
}

/** syncfs off the event loop: the reply is polled every millisecond while the loop goes on. */
export async function syncfsAsync(dirs: string[]): Promise<boolean> {
  const h = request(dirs);
  if (!h) return new Promise((resolve) => spawn('sync', ['-f', ...dirs], { stdio: 'ignore' }).on('close', (code) => resolve(code === 0)).on('error', () => resolve(false)));
  h.busy = true;
  try {
    const buf = Buffer.alloc(64);
    let got = '';
    while (!got.endsWith('\n')) {
      const n = readSome(h, buf);
      if (n === 0) {
        drop(h);
        return syncfs(dirs);
      }
      if (n > 0) got += buf.toString('latin1', 0, n);
      else await new Promise((r) => setTimeout(r, 1));
    }
    return got.trim() === '0';
  } finally {
    h.busy = false;
  }
}
