import { corrupt } from '../common/errors.js';

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
/**
 * Names of Object.prototype's members (`__proto__`, `constructor`, `toString`, ...). The store
 * cannot create a table or column with such a name, so a manifest naming one is hostile; refusing
 * it keeps such names away from every plain object the engine builds from a manifest.
 */
const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));

export function checkIdent(kind: string, n: unknown): string {
  const name = checkComponent(kind, n, IDENT_RE);
  if (RESERVED.has(name)) throw corrupt(`backup names a reserved ${kind} ${JSON.stringify(name)}`);
  return name;
}
export const checkFileName = (n: unknown) => checkComponent('file name', n, FILE_RE);

/** A partition path such as /Key3/tp/20120101: absolute, each component a safe name. */
export function checkPartitionPath(p: unknown): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw corrupt(`backup names an unsafe partition path ${JSON.stringify(p)}`);
  p.slice(1).split('/').forEach((c) => checkComponent('partition path component', c));
  return p;
}

/** True when `check` accepts `name` (for a reader that goes another way when it does not). */
export function passes(check: (name: unknown) => unknown, name: string): boolean {
  try {
    check(name);
    return true;
  } catch {
    return false;
  }
}

/** True when `name` passes checkPartitionPath as one component of a path. */
export const isPathComponent = (name: string) => passes((c) => checkComponent('partition path component', c), name);

export function checkCid(cid: unknown): number {
  if (typeof cid !== 'number' || !Number.isSafeInteger(cid) || cid < 0) throw corrupt(`backup names a bad cid ${JSON.stringify(cid)}`);
  return cid;
}
