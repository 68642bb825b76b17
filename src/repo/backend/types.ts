import type { S3Spec } from './s3-config.js';

/**
 * Where repository objects live (restic's backend layer). An object name is a relative path of
 * safe components joined by `/` (`packs/3f/3f9a…`, `index/3f9a…`, `points/<id>.json`); the
 * backend never follows links and only ever stores regular objects. Everything in src/repo that
 * reads or writes a repository v2 goes through this interface; a v1 repository keeps its own
 * file-mirror code path.
 *
 * The interface is synchronous: the local backend runs inside worker threads with synchronous
 * I/O (DESIGN.md §5). The S3 backend keeps it by running its requests on a helper thread and
 * waiting with Atomics.wait (s3-bridge.ts; ARCHITECTURE.md, "S3").
 */
export interface LocalSpec {
  kind: 'local';
  /** Absolute path of the repository directory. */
  root: string;
}
export type BackendSpec = LocalSpec | S3Spec;

/** A held writer lock. */
export interface RepoLock {
  release(): void;
  /**
   * Proves the lock is still ours right before a commit (a point, a prune): throws LOCKED when it
   * was taken over. Local locks name a live process on this host and cannot be lost.
   */
  confirm?(): void;
}

export interface ObjectInfo {
  name: string;
  size: number;
  /** Set when the entry is not a regular object (a link, FIFO, a directory where an object belongs). */
  irregular?: string;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface WriteOptions {
  /** Fail with CONFLICT when the name exists (never replace it). */
  createOnly?: boolean;
  /** Readable by its owner only where the backend has owners (a local file's mode 0600: key files). */
  private?: boolean;
}

/** A streamed write of one object: nothing is visible under its name until commit() returns. */
export interface ObjectSink {
  readonly size: number;
  append(bytes: Uint8Array): void;
  /** Makes the object durable under its name (create-only), then its name durable. */
  commit(): void;
  /** Drops what was written; the name never appears. */
  abort(): void;
}

/** An open object for range reads (restore and check read many blobs of one pack). */
export interface ObjectReader {
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` into dst (from 0); a range past the end is CORRUPT. */
  readAt(dst: Uint8Array, offset: number, length: number): void;
  close(): void;
}

export interface Backend {
  readonly spec: BackendSpec;
  stat(name: string): ObjectInfo | undefined;
  /** Every object whose name starts with `prefix` (a directory-like prefix ending in `/`; '' is the top level only), sorted by name. */
  list(prefix: string): ObjectInfo[];
  /** The whole object, or a range of it; undefined when it does not exist. */
  read(name: string, range?: ByteRange): Uint8Array | undefined;
  /**
   * Opens an object for range reads. `span`, when given, is where the caller's reads lie (in
   * order): a hint for read-ahead, which never reads past it. Without it reads are on demand.
   */
  open(name: string, span?: ByteRange): ObjectReader | undefined;
  /** Writes an object durably (temp, fdatasync, rename or link, directory fsync). */
  write(name: string, data: Uint8Array, opts?: WriteOptions): void;
  /** A streamed create-only write (packs). */
  create(name: string): ObjectSink;
  /** Removes an object durably; a missing one is no error. */
  remove(name: string): void;
  /**
   * One writer per repository, built on a create-only write; a dead holder's lock is taken over.
   * `name` is the lock object's (default `lock`; the backup directory's key changes use `keys.lock`).
   */
  lock(holder: string, what: string, name?: string): RepoLock;
}
