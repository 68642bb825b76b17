import fs from 'node:fs';
import os from 'node:os';
import { loadCluster } from '../../store/index.js';

export interface OsUser {
  name: string;
  uid: number;
}

/** The OS user this process runs as; a uid without a passwd entry is named "uid:<n>". */
export function currentUser(): OsUser {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  let name: string;
  try {
    name = os.userInfo().username;
  } catch {
    name = `uid:${uid}`;
  }
  return { name, uid };
}

/** Admins are root and the users that cluster.json lists under `admins`. */
export function isAdmin(home: string, user: OsUser): boolean {
  if (user.uid === 0) return true;
  try {
    return (loadCluster(home).admins ?? []).includes(user.name);
  } catch {
    return false;
  }
}

/** uids of root and of the configured admins that have a passwd entry: whose control files a job obeys. */
export function adminUids(home: string): number[] {
  const uids = new Set<number>([0]);
  let admins: string[] = [];
  try {
    admins = loadCluster(home).admins ?? [];
  } catch {
    return [...uids];
  }
  if (!admins.length) return [...uids];
  let passwd = '';
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return [...uids];
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && admins.includes(name) && uid && /^\d+$/.test(uid)) uids.add(Number(uid));
  }
  return [...uids];
}
