import path from 'node:path';
import { writeFileAtomic } from '../common/durable.js';
import { nameMap, parseJson } from '../common/json.js';
import { readRegularFile } from './safe-fs.js';
import type { Backend } from './backend/index.js';
import type { BlobCodec } from './codec/index.js';

/**
 * The cursor of time-boxed and sampled checks, kept per scope in `<repo>/check-state.json` (a file
 * or an S3 object), so
 * repeated runs cover the whole repository in key order.
 */
export interface ScopeState {
  lastKey: string | null;
  passesCompleted: number;
  passStarted: string;
  lastPassCompleted?: string;
  badInPass: number;
  updated: string;
}
export interface CheckState {
  format: 1;
  scopes: Record<string, ScopeState>;
}

export const checkStateFile = (repoDir: string) => path.join(repoDir, 'check-state.json');

/**
 * Where the cursors live: `check-state.json` beside a local repository's other files, or the
 * object of that name in an S3 repository (through its backend, replaced whole by each run,
 * under the repository lock).
 */
export interface CursorPlace {
  read(): Uint8Array | undefined;
  write(bytes: Uint8Array): void;
}
export function cursorPlace(repoDir: string, backend: Backend | undefined): CursorPlace {
  const name = path.basename(checkStateFile(repoDir));
  if (backend?.spec.kind === 's3') return { read: () => backend.read(name), write: (b) => backend.write(name, b) };
  return { read: () => readRegularFile(repoDir, [name]), write: (b) => writeFileAtomic(checkStateFile(repoDir), b) };
}

/**
 * The cursors; a link, FIFO or directory there is CORRUPT, damaged content only costs a fresh pass.
 * In a v2 repository the file goes through the codec's object sealing: encrypted, its entry keys
 * (which name tables) are unreadable without the key.
 */
export function readState(place: CursorPlace, codec?: BlobCodec): CheckState {
  const buf = place.read();
  try {
    const s = buf && (parseJson(Buffer.from(codec ? codec.openObject(buf) : buf).toString('utf8')) as CheckState);
    // Scope keys are names read from disk: keep them in an object without a prototype.
    if (s?.format === 1 && s.scopes && typeof s.scopes === 'object') return { format: 1, scopes: nameMap(s.scopes) };
  } catch {
    /* fall through */
  }
  return { format: 1, scopes: nameMap<ScopeState>() };
}

/** Where one run of a scope got to: entries [start, start + prefix) of the scope are done. */
export interface RunReach {
  scopeKey: string;
  start: number;
  prefix: number;
  scopeKeys: string[];
  badInRun: number;
}

/** Moves the scope's cursor past what this run finished, writes it, and says where the pass stands. */
export function advanceCursor(place: CursorPlace, state: CheckState, r: RunReach, codec?: BlobCodec): CheckCoverage {
  const prior = state.scopes[r.scopeKey];
  const now = new Date().toISOString();
  const total = r.scopeKeys.length;
  const reached = r.start + r.prefix;
  const passComplete = reached >= total;
  const badInPass = (prior?.badInPass ?? 0) + r.badInRun;
  const passesCompleted = (prior?.passesCompleted ?? 0) + (passComplete ? 1 : 0);
  state.scopes[r.scopeKey] = passComplete
    ? { lastKey: null, passesCompleted, passStarted: now, lastPassCompleted: now, badInPass: 0, updated: now }
    : {
        lastKey: r.prefix ? r.scopeKeys[reached - 1]! : (prior?.lastKey ?? null),
        passesCompleted,
        passStarted: prior?.passStarted ?? now,
        ...(prior?.lastPassCompleted ? { lastPassCompleted: prior.lastPassCompleted } : {}),
        badInPass,
        updated: now,
      };
  const json = Buffer.from(JSON.stringify(state, null, 1) + '\n');
  place.write(codec ? codec.sealObject(json) : json);
  return { checked: reached, total, percent: total ? Math.round((reached / total) * 1000) / 10 : 100, passComplete, passesCompleted, badInPass };
}

export interface CheckCoverage {
  /** Entries of the scope checked so far in the current pass (all of them when the pass completed). */
  checked: number;
  total: number;
  percent: number;
  passComplete: boolean;
  passesCompleted: number;
  /** Bad entries found during the current (or just completed) pass. */
  badInPass: number;
}

/** First index whose key is after `key`. */
export function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
