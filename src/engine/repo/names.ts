import fs from 'node:fs';
import path from 'node:path';
import { corrupt } from '../../common/errors.js';

/**
 * A backup directory is untrusted input: every name read from it is checked before it becomes
 * part of a path, and no symbolic link inside it is followed.
 */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const FILE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
const COMPONENT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export function checkComponent(kind: string, name: unknown, re = COMPONENT_RE): string {
  if (typeof name !== 'string' || !re.test(name) || name === '.' || name === '..' || name.includes('..'))
    throw corrupt(`backup names an unsafe ${kind} ${JSON.stringify(name)}`);
  return name;
}

export const checkChunkId = (id: unknown) => checkComponent('chunk id', id, UUID_RE);
export const checkIdent = (kind: string, n: unknown) => checkComponent(kind, n, IDENT_RE);
export const checkFileName = (n: unknown) => checkComponent('file name', n, FILE_RE);

/** A partition path such as /Key3/tp/20120101: absolute, each component a safe name. */
export function checkPartitionPath(p: unknown): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw corrupt(`backup names an unsafe partition path ${JSON.stringify(p)}`);
  p.slice(1).split('/').forEach((c) => checkComponent('partition path component', c));
  return p;
}

export function checkCid(cid: unknown): number {
  if (typeof cid !== 'number' || !Number.isSafeInteger(cid) || cid < 0) throw corrupt(`backup names a bad cid ${JSON.stringify(cid)}`);
  return cid;
}

/** Refuses a path under root if any component from root down is a symbolic link or not a directory. */
export function checkRealDirs(root: string, rel: string[]): string {
  let p = root;
  for (const part of rel) {
    p = path.join(p, part);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return p; // missing: the caller reports it
    if (st.isSymbolicLink()) throw corrupt(`refusing to follow a symbolic link in the backup: ${p}`);
    if (!st.isDirectory()) throw corrupt(`expected a directory in the backup: ${p}`);
  }
  return p;
}
