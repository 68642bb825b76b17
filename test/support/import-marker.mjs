// A module task that records each import of itself: appends a line to the file its URL's
// `marker` query names (test/io/copy-worker.test.ts: preloaded module tasks).
import fs from 'node:fs';

const marker = new URL(import.meta.url).searchParams.get('marker');
if (marker) fs.appendFileSync(marker, 'imported\n');

export default function run(payload) {
  return { ran: payload };
}
