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
 * The helper is one small `sh` per thread, started at the first sync (one fork), that runs
 * `sync -f` for each request; its own forks are cheap. Requests and replies go through two FIFOs
 * so this thread can wait synchronously (the FIFO files are removed once open). Request: one
 * path per line, then an empty line; reply: `sync`'s exit status. A path with a newline, a
 * helper that does not start or that died, or a request while the async one is waiting: the
 * caller falls back to spawning `sync -f` itself.
 */
// The paths of one request are synced at once, one `sync -f` each (`sync -f a b` would flush them in
// turn: four emulated disks flushed one after another); the reply is 0 only when every one succeeded.
const SCRIPT =
  'exec 3<"$1" 4>"$2"; echo ready >&4; set --; while IFS= read -r p <&3; do if [ -z "$p" ]; then ' +
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
let helper: Helper | undefined | null;
const nap = new Int32Array(new SharedArrayBuffer(4));

function start(): Helper | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-syncfs-'));
  try {
    const [req, rep] = [path.join(dir, 'req'), path.join(dir, 'rep')];
    if (spawnSync('mkfifo', ['-m', '600', req, rep], { stdio: 'ignore' }).status !== 0) return null;
    // O_RDWR on the request FIFO and O_NONBLOCK on the reply FIFO: neither open waits for the helper.
    const h: Helper = { req: fs.openSync(req, fs.constants.O_RDWR), rep: fs.openSync(rep, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK), busy: false, dead: false };
    const child = spawn('sh', ['-c', SCRIPT, 'cv-syncfs', req, rep], { stdio: 'ignore' });
    child.on('error', () => (h.dead = true));
    child.unref();
    if (replyWithin(h, START_MS, false) !== 'ready') return close(h);
    return h;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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

function request(dirs: string[]): Helper | undefined {
  if (dirs.length === 0 || dirs.some((d) => d.includes('\n') || d === '')) return undefined;
  if (helper === undefined) helper = start();
  if (!helper || helper.dead || helper.busy) return undefined;
  fs.writeSync(helper.req, `${dirs.join('\n')}\n\n`);
  return helper;
}

const spawnedSync = (dirs: string[]) => spawnSync('sync', ['-f', ...dirs], { stdio: 'ignore' }).status === 0;

/** syncfs of each directory's file system; false when `sync -f` fails. */
export function syncfs(dirs: string[]): boolean {
  const h = request(dirs);
  if (!h) return spawnedSync(dirs);
  // A sync never takes an hour; past that the helper is taken for hung and dropped.
  const r = replyWithin(h, 3600_000);
  if (r === undefined) {
    helper = close(h);
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
        helper = close(h);
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
