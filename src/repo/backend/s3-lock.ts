import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { CvError } from '../../common/errors.js';
import { pidAlive } from '../../common/lockfile.js';
import type { S3Backend } from './s3.js';
import type { RepoLock } from './types.js';

/**
 * Lock timing on object storage (restic's rules, internal/restic/lock.go, scaled down): a held
 * lock is rewritten every 2 minutes; one not rewritten for 10 minutes is stale, as is one from a
 * dead process on this host. restic refreshes every 5 and calls a lock stale after 30 minutes;
 * a backup here is shorter-lived and a crashed run should not block the next one for half an hour.
 */
export const S3_LOCK = { refreshMs: 2 * 60_000, staleMs: 10 * 60_000, name: 'lock' } as const;

export interface S3LockOwner {
  holder: string;
  host: string;
  pid: number;
  since: string;
  refreshed: string;
  nonce: string;
}

function parseOwner(bytes: Uint8Array): S3LockOwner | undefined {
  try {
    const o = JSON.parse(Buffer.from(bytes).toString('utf8')) as S3LockOwner;
    return typeof o.holder === 'string' && typeof o.host === 'string' && typeof o.pid === 'number' && typeof o.refreshed === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Stale: unreadable (objects appear whole, so it was planted), not refreshed in time, or its process is gone from this host. */
export function lockIsStale(o: S3LockOwner | undefined, now = Date.now()): boolean {
  if (!o) return true;
  const age = now - Date.parse(o.refreshed);
  if (!(age < S3_LOCK.staleMs)) return true;
  return o.host === os.hostname() && !pidAlive(o.pid);
}

/**
 * The writer lock of an S3 repository: a create-only PUT (If-None-Match: *) of one object naming
 * its holder, never check-then-create. A stale lock is taken over by a PUT guarded by If-Match on
 * the ETag that was judged stale, so of several contenders exactly one replaces it; the rest see
 * 412 and look again. Refreshes are If-Match on our own ETag: a lock taken from us is noticed.
 */
export class S3Lock implements RepoLock {
  private timer: NodeJS.Timeout | undefined;
  /** Set when a refresh found the lock no longer ours. */
  lost = false;

  private constructor(
    private readonly backend: S3Backend,
    private readonly me: S3LockOwner,
    private etag: string,
    private readonly what: string,
    private readonly name: string,
  ) {
    this.timer = setInterval(() => this.refresh(), S3_LOCK.refreshMs);
    this.timer.unref();
  }

  static acquire(backend: S3Backend, holder: string, what: string, name: string = S3_LOCK.name): S3Lock {
    const now = new Date().toISOString();
    const me: S3LockOwner = { holder, host: os.hostname(), pid: process.pid, since: now, refreshed: now, nonce: randomBytes(8).toString('hex') };
    const body = Buffer.from(JSON.stringify(me));
    for (let attempt = 0; attempt < 10; attempt++) {
      const etag = backend.agentPut(name, body, { createOnly: true });
      if (etag !== undefined) return new S3Lock(backend, me, etag, what, name);
      const cur = backend.readTagged(name);
      if (!cur) continue; // released between our PUT and GET: try again
      const owner = parseOwner(cur.bytes);
      // Our own create landed on an attempt whose reply was lost (a retry then saw 412).
      if (owner?.nonce === me.nonce) return new S3Lock(backend, me, cur.etag, what, name);
      if (!lockIsStale(owner)) {
        throw new CvError('LOCKED', `${what} is locked by ${owner!.holder} (pid ${owner!.pid} on ${owner!.host} since ${owner!.since}, refreshed ${owner!.refreshed})`);
      }
      const took = backend.agentPut(name, body, { ifMatch: cur.etag });
      if (took !== undefined) return new S3Lock(backend, me, took, what, name);
      // Another contender replaced the stale lock first: look again.
    }
    throw new CvError('LOCKED', `${what}: could not take its lock after 10 attempts (contended)`);
  }

  private refresh(): void {
    try {
      this.rewrite();
    } catch {
      /* a failed refresh is retried at the next tick; staleness allows several misses */
    }
  }

  /** One guarded rewrite (If-Match on our ETag); a 412 means another holder replaced it. */
  private rewrite(): void {
    if (this.lost) return;
    const next = { ...this.me, refreshed: new Date().toISOString() };
    const etag = this.backend.agentPut(this.name, Buffer.from(JSON.stringify(next)), { ifMatch: this.etag });
    if (etag === undefined) this.lost = true;
    else this.etag = etag;
  }

  /**
   * A refresh now, before a commit: a lock that was taken over (we stalled past its stale time and
   * another writer replaced it) must not be followed by our point, which that writer never saw.
   */
  confirm(): void {
    this.rewrite();
    if (!this.lost) return;
    const cur = this.backend.readTagged(this.name);
    const owner = cur ? parseOwner(cur.bytes) : undefined;
    const by = owner ? ` by ${owner.holder} (pid ${owner.pid} on ${owner.host} since ${owner.since})` : '';
    throw new CvError('LOCKED', `the lock of ${this.what} was taken over${by} while this run held it; nothing was committed`);
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.lost) return;
    const cur = this.backend.readTagged(this.name);
    if (cur && parseOwner(cur.bytes)?.nonce === this.me.nonce) this.backend.remove(this.name);
  }
}
