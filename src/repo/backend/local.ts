import fs from 'node:fs';
import path from 'node:path';
import { uniqueHex } from '../../common/unique-name.js';
import { CvError, corrupt, fromSystemError, guard } from '../../common/errors.js';
import { closeFile, closeQuietly, linkPath, openFile, removeFile, renamePath, syncDir, syncFile, writeAll } from '../../common/fsio.js';
import { LockFile } from '../../common/lockfile.js';
import { ensureDirs, entryKind, kindOf, listDir, openRegularFile, readRegularFile, removeEntry, walkDirs, wrongKind } from '../safe-fs.js';
import type { Backend, BackendSpec, ByteRange, ObjectInfo, ObjectReader, ObjectSink, WriteOptions } from './types.js';

const COMPONENT_RE = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}$/;
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/**
 * A span (every blob a restore or check task reads from one pack) up to this size is read with one
 * pread on its first read, and its blobs copied out of memory: the many shape's tasks read ~64
 * blobs of a few hundred bytes each, one pread apiece (~28,000 in a migrate, ~0.27 s of each
 * worker). A larger span (large files) is read blob by blob, straight into the caller's buffer.
 */
export const LOCAL_SPAN_READ_MAX = 4 << 20;

/** An object name as path components; anything but safe components joined by `/` is a bug or hostile. */
export function nameParts(name: string): string[] {
  const parts = name.split('/');
  if (!parts.every((p) => COMPONENT_RE.test(p) && p !== '.' && p !== '..')) throw corrupt(`unsafe repository object name ${JSON.stringify(name)}`);
  return parts;
}

/**
 * The local file system as a backend: one file per object under the repository directory, read
 * and written only through safe-fs (no link followed, regular files only) and fsio (whole writes,
 * the fault layer). Synchronous throughout: it runs inside worker threads.
 */
export class LocalBackend implements Backend {
  constructor(readonly spec: BackendSpec) {}

  stat(name: string): ObjectInfo | undefined {
    const parts = nameParts(name);
    const parent = walkDirs(this.spec.root, parts.slice(0, -1));
    if (parent === undefined) return undefined;
    const st = fs.lstatSync(path.join(parent, parts.at(-1)!), { throwIfNoEntry: false });
    if (!st) return undefined;
    return st.isFile() ? { name, size: st.size } : { name, size: 0, irregular: kindOf(st) };
  }

  list(prefix: string): ObjectInfo[] {
    const out: ObjectInfo[] = [];
    const add = (name: string, kind: string) => {
      if (kind !== 'file') return void out.push({ name, size: 0, irregular: kind });
      // A listing is a snapshot taken while writers work: a temp renamed away (a worker's pack
      // index made durable) between the directory read and this stat is simply not in it.
      const st = fs.lstatSync(path.join(this.spec.root, name), { throwIfNoEntry: false });
      if (st) out.push({ name, size: st.size });
    };
    const walk = (rel: string[], depth: number) => {
      for (const e of listDir(this.spec.root, rel)) {
        if (e.kind === 'directory' && depth > 0) walk([...rel, e.name], depth - 1);
        else add([...rel, e.name].join('/'), e.kind);
      }
    };
    // '' lists the top level only (directories as irregular); packs/<2 hex>/<id> is the deepest layout: two levels under a prefix.
    // A directory that does not exist holds nothing, as an S3 prefix without objects.
    if (prefix === '') for (const e of fs.existsSync(this.spec.root) ? listDir(this.spec.root, []) : []) add(e.name, e.kind);
    else walk(nameParts(prefix.replace(/\/$/, '')), 1);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  read(name: string, range?: ByteRange): Uint8Array | undefined {
    if (!range) return readRegularFile(this.spec.root, nameParts(name));
    const r = this.open(name);
    if (!r) return undefined;
    try {
      const out = new Uint8Array(range.length);
      r.readAt(out, range.offset, range.length);
      return out;
    } finally {
      r.close();
    }
  }

  open(name: string, span?: ByteRange): ObjectReader | undefined {
    const f = openRegularFile(this.spec.root, nameParts(name));
    if (!f) return undefined;
    const { fd, file, size } = f;
    const pread = (dst: Uint8Array, offset: number, length: number) => {
      for (let done = 0; done < length; ) {
        const n = fs.readSync(fd, dst, done, length - done, offset + done);
        if (n === 0) throw corrupt(`${file} shrank while being read`);
        done += n;
      }
    };
    let held: { at: number; bytes: Uint8Array } | undefined;
    return {
      size,
      readAt(dst: Uint8Array, offset: number, length: number): void {
        if (offset < 0 || length < 0 || offset + length > size) throw corrupt(`${file} is ${size} bytes; bytes ${offset}..${offset + length} are past its end`);
        if (held === undefined && span && span.length <= LOCAL_SPAN_READ_MAX && offset >= span.offset && offset + length <= span.offset + span.length) {
          // The span's first read reads all of it that the object holds (a hostile span may run past its end).
          const bytes = new Uint8Array(Math.min(span.length, size - span.offset));
          pread(bytes, span.offset, bytes.length);
          held = { at: span.offset, bytes };
        }
        if (held && offset >= held.at && offset + length <= held.at + held.bytes.length) dst.set(held.bytes.subarray(offset - held.at, offset - held.at + length));
        else pread(dst.subarray(0, length), offset, length);
      },
      close: () => fs.closeSync(fd),
    };
  }

  write(name: string, data: Uint8Array, opts: WriteOptions = {}): void {
    const sink = this.sink(name, opts.createOnly ?? false, opts.private ? 0o600 : 0o644);
    try {
      sink.append(data);
    } catch (err) {
      sink.abort();
      throw err;
    }
    sink.commit();
  }

  create(name: string): ObjectSink {
    return this.sink(name, true);
  }

  /** Removes an object and makes the removal durable (an fsync of its directory). */
  remove(name: string): void {
    const parts = nameParts(name);
    removeEntry(this.spec.root, parts);
    const dir = walkDirs(this.spec.root, parts.slice(0, -1));
    if (dir !== undefined) syncDir(dir);
  }

  lock(holder: string, what: string, name = 'lock'): LockFile {
    // A lock that is not a regular file was planted: taking it over would delete what is there.
    const kind = entryKind(this.spec.root, [name]);
    if (kind && kind !== 'file') throw wrongKind(path.join(this.spec.root, name), kind, 'file');
    return LockFile.acquire(path.join(this.spec.root, name), { holder, waitMs: 0, what });
  }

  /** temp (O_EXCL) → writes → fdatasync → link (create-only) or rename → directory fsync. */
  private sink(name: string, createOnly: boolean, mode = 0o644): ObjectSink {
    const parts = nameParts(name);
    const dir = ensureDirs(this.spec.root, parts.slice(0, -1));
    const final = path.join(dir, parts.at(-1)!);
    const tmp = path.join(dir, `.tmp-${parts.at(-1)}-${process.pid}-${uniqueHex()}`);
    let fd: number | undefined = guard(() => openFile(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode), `create ${tmp}`);
    let size = 0;
    const drop = () => {
      if (fd !== undefined) closeQuietly(fd);
      fd = undefined;
      removeFile(tmp);
    };
    return {
      get size() {
        return size;
      },
      append(bytes: Uint8Array) {
        guard(() => writeAll(fd!, bytes), `write ${final}`);
        size += bytes.byteLength;
      },
      commit() {
        try {
          guard(() => syncFile(fd!), `fdatasync ${final}`);
          closeFile(fd!);
          fd = undefined;
          if (createOnly) {
            linkPath(tmp, final);
            removeFile(tmp);
          } else guard(() => renamePath(tmp, final), `publish ${final}`);
        } catch (err) {
          drop();
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CvError('CONFLICT', `repository object ${name} already exists`);
          throw fromSystemError(err, `publish ${final}`);
        }
        guard(() => syncDir(dir), `fsync ${dir}`);
      },
      abort: drop,
    };
  }
}


