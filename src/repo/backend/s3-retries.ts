import { BroadcastChannel, isMainThread } from 'node:worker_threads';

/**
 * S3 retries of the whole process, counted on the main thread: every S3 agent (the main thread's
 * and each copy worker's) announces a retry on one BroadcastChannel. The main thread starts
 * listening when it makes its first S3 backend, before any worker exists.
 */
const CHANNEL = 'chunkvault:s3-retries';
let count = 0;
let listener: BroadcastChannel | undefined;
let sender: BroadcastChannel | undefined;

export function listenForRetries(): void {
  if (!isMainThread || listener) return;
  listener = new BroadcastChannel(CHANNEL);
  listener.onmessage = (e) => {
    count += Number((e as { data: unknown }).data) || 0;
  };
  listener.unref();
}

/** Called by an agent on each retry. */
export function announceRetry(): void {
  if (!sender) {
    sender = new BroadcastChannel(CHANNEL);
    sender.unref();
  }
  sender.postMessage(1);
}

/**
 * Retries so far in this process, once the announcements in flight have arrived; undefined when no
 * S3 repository was used (so local runs report nothing).
 */
export async function s3Retries(): Promise<number | undefined> {
  if (!listener) return undefined;
  await new Promise((r) => setTimeout(r, 20));
  return count;
}
