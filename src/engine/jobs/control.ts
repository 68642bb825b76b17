import { writeFileAtomic } from '../../common/durable.js';
import { controlFile, readOwned } from './files.js';

/**
 * A request to a running job, in `<home>/jobs/<jobId>.ctl-<uid>`: one file per requesting uid, so
 * nobody can squat the name another user needs. A job obeys only files whose name and owner are
 * its own uid, root's, or a configured admin's.
 */
export interface ControlRequest {
  cancel?: { by: string; at: string };
  rate?: { bytesPerSec: number; by: string; at: string };
}

export function readControl(home: string, jobId: string, uid: number): ControlRequest | undefined {
  const f = readOwned(controlFile(home, jobId, uid), uid);
  if (!f) return undefined;
  try {
    return JSON.parse(f.text) as ControlRequest;
  } catch {
    return undefined;
  }
}

/** Adds to this user's request file for the job (atomic; 0644: a request holds nothing secret). */
export function writeControl(home: string, jobId: string, uid: number, change: ControlRequest): void {
  const cur = readControl(home, jobId, uid) ?? {};
  writeFileAtomic(controlFile(home, jobId, uid), JSON.stringify({ ...cur, ...change }) + '\n', { mode: 0o644 });
}

/** Merges the requests of every uid the job obeys: any cancel wins; the newest rate wins. */
export function mergedControl(home: string, jobId: string, uids: number[]): ControlRequest {
  const out: ControlRequest = {};
  for (const uid of uids) {
    const c = readControl(home, jobId, uid);
    if (!c) continue;
    if (c.cancel && !out.cancel) out.cancel = c.cancel;
    if (c.rate && (!out.rate || c.rate.at > out.rate.at)) out.rate = c.rate;
  }
  return out;
}
