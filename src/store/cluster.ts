import fs from 'node:fs';
import path from 'node:path';
import { CvError, asCvError, fromSystemError, usage } from '../common/errors.js';
import { readJson, writeJsonAtomic } from '../common/durable.js';
import { makeDirs } from '../common/fsio.js';

export interface VolumeConfig {
  path: string;
  /** Optional disk name; volumes without one are grouped by device (st_dev). */
  disk?: string;
}
export interface NodeConfig {
  name: string;
  volumes: VolumeConfig[];
}
export interface ClusterConfig {
  format: 1;
  nodes: NodeConfig[];
  /** Users besides root who may see every user's jobs. */
  admins: string[];
}

/** A volume as placement and the copy pipeline see it. */
export interface Volume {
  node: string;
  index: number;
  path: string;
  disk: string;
}

export const CLUSTER_FILE = 'cluster.json';

export function resolveHome(home?: string): string {
  const h = home ?? process.env.CHUNKVAULT_HOME;
  if (!h) throw usage('no cluster home: pass --home DIR or set CHUNKVAULT_HOME');
  return path.resolve(h);
}

/**
 * stat that tells "not there" (undefined) from "not allowed to look" (IO, permission denied):
 * existsSync says false for both, which reported an unreadable home as missing.
 */
function statIfPresent(p: string, what: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fromSystemError(err, what);
  }
}

export function isCluster(home: string): boolean {
  return statIfPresent(path.join(home, CLUSTER_FILE), `cluster home ${home}`) !== undefined;
}

const LAYOUT = ['volumes', 'catalog', 'pins', 'jobs', 'batchJobs'];

/**
 * True for a home that initCluster began and never finished (it writes cluster.json last): only
 * its own directories, and no file anywhere below them. Finishing such a home loses nothing.
 */
export function isUnfinishedHome(home: string): boolean {
  const st = fs.lstatSync(home, { throwIfNoEntry: false });
  if (!st?.isDirectory() || isCluster(home)) return false;
  const onlyDirs = (dir: string, depth: number): boolean =>
    depth < 6 && fs.readdirSync(dir, { withFileTypes: true }).every((e) => e.isDirectory() && onlyDirs(path.join(dir, e.name), depth + 1));
  // A kill inside cluster.json's own atomic write leaves its temp file: still unfinished.
  const ownTemp = (e: fs.Dirent) => e.isFile() && e.name.startsWith(`.${CLUSTER_FILE}.tmp-`);
  return fs.readdirSync(home, { withFileTypes: true }).every((e) => ownTemp(e) || (LAYOUT.includes(e.name) && e.isDirectory() && onlyDirs(path.join(home, e.name), 1)));
}

export function loadCluster(home: string): ClusterConfig {
  const file = path.join(home, CLUSTER_FILE);
  if (!statIfPresent(home, `cluster home ${home}`)) throw new CvError('NOT_FOUND', `cluster home ${home} does not exist`);
  if (!isCluster(home)) throw new CvError('NOT_FOUND', `${home} is not a chunkvault cluster home (no ${CLUSTER_FILE}; run "chunkvault init")`);
  let cfg: ClusterConfig;
  try {
    cfg = readJson<ClusterConfig>(file);
  } catch (err) {
    throw asCvError(err) ?? new CvError('CORRUPT', `${file} is not valid JSON`);
  }
  if (cfg.format !== 1 || !Array.isArray(cfg.nodes) || cfg.nodes.length === 0)
    throw new CvError('CORRUPT', `${file} is not a chunkvault cluster config`);
  return cfg;
}

export interface InitOptions {
  nodes?: number;
  volumesPerNode?: number;
  /** Explicit volumes as "node1=/mnt/a" or "node1=/mnt/a:diskname". */
  volumes?: string[];
  admins?: string[];
}

/** Lays out a cluster home. Refuses a home that already is one, so nothing is overwritten. */
export function initCluster(home: string, opts: InitOptions = {}): ClusterConfig {
  if (isCluster(home)) throw new CvError('CONFLICT', `${home} is already a cluster home`);
  const nodes: NodeConfig[] = [];
  if (opts.volumes?.length) {
    for (const spec of opts.volumes) {
      const m = /^([A-Za-z0-9_-]+)=(\/[^:]*)(?::([A-Za-z0-9_.-]+))?$/.exec(spec);
      if (!m) throw usage(`bad --volume "${spec}": expected NODE=/absolute/path[:diskname]`);
      let node = nodes.find((n) => n.name === m[1]);
      if (!node) nodes.push((node = { name: m[1]!, volumes: [] }));
      node.volumes.push(m[3] ? { path: m[2]!, disk: m[3] } : { path: m[2]! });
    }
  } else {
    const n = opts.nodes ?? 1;
    const v = opts.volumesPerNode ?? 1;
    if (!Number.isInteger(n) || n < 1 || !Number.isInteger(v) || v < 1) throw usage('--nodes and --volumes-per-node must be positive integers');
    for (let i = 1; i <= n; i++)
      nodes.push({ name: `node${i}`, volumes: Array.from({ length: v }, (_, j) => ({ path: path.join(home, 'volumes', `node${i}`, `vol${j}`) })) });
  }
  for (const node of nodes) for (const vol of node.volumes) makeDirs(vol.path);
  const cfg: ClusterConfig = { format: 1, nodes, admins: opts.admins ?? [] };
  makeDirs(home);
  // Every step is idempotent and cluster.json comes last, so a run killed half-way leaves an
  // unfinished home (isUnfinishedHome) that the next run completes.
  for (const d of ['catalog', 'pins', 'jobs', 'batchJobs']) makeDirs(path.join(home, d));
  // Any user may record their own jobs and pins; the sticky bit stops them replacing anyone else's.
  for (const d of ['pins', 'jobs', 'batchJobs']) fs.chmodSync(path.join(home, d), 0o1777);
  for (const e of fs.readdirSync(home)) if (e.startsWith(`.${CLUSTER_FILE}.tmp-`)) fs.rmSync(path.join(home, e), { force: true });
  writeJsonAtomic(path.join(home, CLUSTER_FILE), cfg);
  return cfg;
}

export function diskOfVolume(v: VolumeConfig): string {
  if (v.disk) return v.disk;
  try {
    return `dev:${fs.statSync(v.path).dev}`;
  } catch {
    return `dev:?${v.path}`;
  }
}

/**
 * Volumes in placement order: node-major interleaving (node1/vol0, node2/vol0, node1/vol1, ...),
 * so consecutive partitions land on different nodes first, then on different volumes.
 */
export function volumesOf(cfg: ClusterConfig): Volume[] {
  const out: Volume[] = [];
  const maxV = Math.max(...cfg.nodes.map((n) => n.volumes.length));
  for (let j = 0; j < maxV; j++)
    for (const node of cfg.nodes) {
      const v = node.volumes[j];
      if (v) out.push({ node: node.name, index: j, path: v.path, disk: diskOfVolume(v) });
    }
  return out;
}
