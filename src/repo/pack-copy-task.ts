/**
 * A copy worker's task for `copy`: one pack's bytes from one repository's backend to another's,
 * verbatim (both repositories use the same codec), in throttled, cancellable windows. The pack is
 * durable under its name at the target before the task returns; its index is written after, by
 * the main thread, so a target never indexes a pack it does not hold.
 */
import { CvError, corrupt } from '../common/errors.js';
import type { WorkerContext } from '../io/index.js';
import { backendFor, takeAgents, type BackendSpec, type WithAgents } from './backend/index.js';
import { packObject } from './pack-format.js';
import { entryUrl } from '../common/entry-points.js';

export interface CopyPackTask {
  src: BackendSpec;
  dst: BackendSpec;
  pack: string;
  packSize: number;
}

/** Bytes read from the source per step (a multipart part at an S3 target). */
const WINDOW = 16 << 20;

export const COPY_PACK_TASK = entryUrl('pack-copy-task').href;

export default function copyPack(t: WithAgents<CopyPackTask>, ctx: WorkerContext): { bytes: number; skipped: boolean } {
  takeAgents(t);
  const name = packObject(t.pack);
  const dst = backendFor(t.dst);
  // A copy killed after the pack landed but before its index: the pack is there whole (objects
  // appear only once complete), so only the index is missing.
  const there = dst.stat(name);
  if (there && !there.irregular && there.size === t.packSize) return { bytes: 0, skipped: true };
  const reader = backendFor(t.src).open(name);
  if (!reader) throw corrupt(`pack ${t.pack} is missing from ${t.src.root}`);
  try {
    if (reader.size !== t.packSize) throw corrupt(`pack ${t.pack} in ${t.src.root} is ${reader.size} bytes, its index says ${t.packSize}`);
    const sink = dst.create(name);
    try {
      const buf = Buffer.allocUnsafe(Math.min(WINDOW, t.packSize));
      for (let at = 0; at < t.packSize; ) {
        const n = Math.min(buf.length, t.packSize - at);
        if (ctx.stopped() || !ctx.acquire(n)) throw new CvError('CANCELLED', 'copy cancelled');
        reader.readAt(buf, at, n);
        sink.append(buf.subarray(0, n));
        ctx.progress(n);
        at += n;
      }
      sink.commit();
    } catch (err) {
      sink.abort();
      throw err;
    }
  } finally {
    reader.close();
  }
  return { bytes: t.packSize, skipped: false };
}
