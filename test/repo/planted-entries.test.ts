import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { latestManifest, repoDir } from '../engine/backup-helpers.js';
import { DB, backedUpSource, scratchDir } from '../engine/helpers-restore.js';

/**
 * Issue 9 item 4: an entry planted at any level of a repository (a symbolic link to a tree outside,
 * a FIFO, or a directory where a file belongs and the reverse) never makes a command act outside
 * the repository, hang, or exit 1. Every (level, kind, command) runs the real CLI in a child with a
 * timeout, against its own copy of one backed-up repository, beside a canary tree that must stay
 * byte-identical.
 */

type Kind = 'symlink' | 'fifo' | 'swap';
type Cmd = 'backup' | 'backup --force' | 'prune' | 'check' | 'restore-db' | 'list' | 'meta' | 'points';
const KINDS: Kind[] = ['symlink', 'fifo', 'swap'];
const CMDS: Cmd[] = ['backup', 'backup --force', 'prune', 'check', 'restore-db', 'list', 'meta', 'points'];
const PART = '/Key2/tp/20120101';
const TIMEOUT_MS = 20_000;

let dir: string, src: string, cleanBak: string, chunkId: string;

beforeAll(async () => {
  dir = scratchDir('planted');
  ({ home: src, bak: cleanBak } = await backedUpSource(dir));
  chunkId = latestManifest(cleanBak, DB).partitions.find((p) => p.path === PART)!.chunkId;
});
afterAll(() => rmTmp(dir));

interface Level {
  name: string;
  rel: () => string[];
  /** What belongs there; a swap plants the other kind. */
  is: 'dir' | 'file';
  /** Commands that must read the planted entry and so fail with CORRUPT (7); check reports data as bad (8). */
  fails: Partial<Record<Cmd, number>>;
}

const ALL = (code: number) => Object.fromEntries(CMDS.map((c) => [c, code])) as Record<Cmd, number>;
const DATA_FAILS = { 'backup --force': 7, prune: 7, check: 8, 'restore-db': 7 };
const JOURNAL_FAILS = { backup: 7, 'backup --force': 7, prune: 7, check: 7 };
const LEVELS: Level[] = [
  { name: 'data/', rel: () => ['data'], is: 'dir', fails: DATA_FAILS },
  { name: 'data/<chunk>', rel: () => ['data', chunkId], is: 'dir', fails: DATA_FAILS },
  { name: 'data/<chunk>/<table>', rel: () => ['data', chunkId, 'quotes'], is: 'dir', fails: DATA_FAILS },
  { name: 'points/', rel: () => ['points'], is: 'dir', fails: ALL(7) },
  { name: 'journal/', rel: () => ['journal'], is: 'dir', fails: JOURNAL_FAILS },
  { name: 'journal/<run>.jsonl', rel: () => ['journal', 'lk0-abcdef.jsonl'], is: 'file', fails: JOURNAL_FAILS },
  { name: 'lock', rel: () => ['lock'], is: 'file', fails: { backup: 7, 'backup --force': 7, prune: 7, check: 7 } },
  { name: 'repo.json', rel: () => ['repo.json'], is: 'file', fails: ALL(7) },
];

/** Every entry under root as path -> content hash (files), link text (links) or kind: no link followed. */
function treeHash(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(root, p);
      if (e.isDirectory()) {
        out[rel] = 'dir';
        walk(p);
      } else if (e.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isFile()) out[rel] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      else out[rel] = 'other';
    }
  };
  walk(root);
  return out;
}

/**
 * Builds one case: a copy of the repository with the level's entry replaced, and a canary tree
 * outside holding what a link points at. The victim holds a decoy "unreferenced" entry that the
 * old prune deleted through a link, so a followed link shows as a changed canary.
 */
function plant(root: string, level: Level, kind: Kind): { bak: string; canary: string } {
  const bak = path.join(root, 'bak');
  fs.cpSync(cleanBak, bak, { recursive: true, verbatimSymlinks: true });
  const canary = path.join(root, 'canary');
  fs.mkdirSync(canary, { recursive: true });
  fs.writeFileSync(path.join(canary, 'canary.txt'), 'do not touch');
  const at = path.join(repoDir(bak, DB), ...level.rel());
  fs.mkdirSync(path.dirname(at), { recursive: true });
  const victim = path.join(canary, 'victim');
  if (level.is === 'dir') {
    if (fs.existsSync(at)) fs.renameSync(at, victim);
    else fs.mkdirSync(victim);
    const decoy = path.join(victim, ...(level.rel().length === 1 ? ['0b0b0b0b-0000-4000-8000-000000000000', 'quotes', '7'] : level.rel().length === 2 ? ['quotes', '999'] : ['999']));
    fs.mkdirSync(decoy, { recursive: true });
    fs.writeFileSync(path.join(decoy, 'time.col'), 'decoy');
  } else if (fs.existsSync(at)) fs.renameSync(at, victim);
  else fs.writeFileSync(victim, '{"key":"x"}\n');
  if (kind === 'symlink') fs.symlinkSync(victim, at);
  else if (kind === 'fifo') execFileSync('mkfifo', [at]);
  else if (level.is === 'dir') fs.writeFileSync(at, 'a file where a directory belongs');
  else fs.mkdirSync(path.join(at, 'inside'), { recursive: true });
  return { bak, canary };
}

function argsOf(cmd: Cmd, bak: string, target: string): string[] {
  switch (cmd) {
    case 'backup':
      return ['--home', src, 'backup', bak, DB];
    case 'backup --force':
      return ['--home', src, 'backup', bak, DB, '--force', '--workers', '1'];
    case 'prune':
      return ['prune', bak, DB, '--keep-last', '1'];
    case 'check':
      return ['check', bak, DB, '--workers', '1'];
    case 'restore-db':
      return ['--home', target, 'restore-db', bak, DB, '--workers', '1'];
    case 'list':
      return ['list', bak, DB, 'quotes'];
    case 'meta':
      return ['meta', bak, DB, PART, 'quotes'];
    case 'points':
      return ['points', bak, DB];
  }
}

/** The CLI in a child that is killed after TIMEOUT_MS (a FIFO opened blocking would hang it). */
function run(args: string[]): Promise<{ code: number | null; timedOut: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CHUNKVAULT_HOME: undefined }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, TIMEOUT_MS);
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, stderr });
    });
  });
}

interface Outcome {
  level: string;
  kind: Kind;
  cmd: Cmd;
  code: number | null;
  timedOut: boolean;
  canaryKept: boolean;
  errLines: string[];
}

async function runCase(n: number, level: Level, kind: Kind, cmd: Cmd): Promise<Outcome> {
  const root = path.join(dir, `case${n}`);
  const { bak, canary } = plant(root, level, kind);
  const before = treeHash(canary);
  const r = await run(argsOf(cmd, bak, path.join(root, 'target')));
  const canaryKept = JSON.stringify(treeHash(canary)) === JSON.stringify(before);
  rmTmp(root);
  return { level: level.name, kind, cmd, code: r.code, timedOut: r.timedOut, canaryKept, errLines: r.stderr.split('\n').filter((l) => l.trim()) };
}

async function runAll(cases: [Level, Kind, Cmd][], concurrency: number): Promise<Outcome[]> {
  const out: Outcome[] = new Array(cases.length);
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await runCase(i, ...cases[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return out;
}

describe('entries planted in a repository', () => {
  it('never make a command follow a link, hang, or exit 1: each (level x kind x command) exits with its documented code and the canary stays byte-identical', async () => {
    const cases = LEVELS.flatMap((l) => KINDS.flatMap((k) => CMDS.map((c) => [l, k, c] as [Level, Kind, Cmd])));
    const outcomes = await runAll(cases, 4);
    const wrong = outcomes.filter((o, i) => {
      const want = cases[i]![0].fails[o.cmd] ?? 0;
      // An error is one stderr line; check's exit 8 prints its bad chunks on stdout instead.
      return o.timedOut || o.code !== want || !o.canaryKept || (o.code !== 0 && o.code !== 8 && o.errLines.length !== 1);
    });
    expect(wrong.map((o) => `${o.level} ${o.kind} ${o.cmd}: exit ${o.code}${o.timedOut ? ' (timed out)' : ''}${o.canaryKept ? '' : ' CANARY CHANGED'} ${o.errLines.join(' | ')}`)).toEqual([]);
  }, 240_000);
});
