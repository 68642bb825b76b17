import { CvError, corrupt } from '../common/errors.js';
import { parseJson } from '../common/json.js';
import type { EntryTable } from './entry-table.js';
import { checkPackHead, packEntryChecker, validatePackIndex, type PackedEntry } from './pack-format.js';
import { bufferLines, unsealJsonBytes, walkSealed } from './sealed-json.js';

/**
 * One pack index object's opened bytes added to the entry table an entry at a time (issue 14):
 * each entry's line is parsed, checked and encoded as it is read, so its objects die young. Read
 * whole, the 100 indexes of 200,000 entries were promoted to the old generation index by index,
 * and a `check --sample 1` peaked at ~380 MB of RSS. The entries are found in the table only once
 * the whole object hashed to its checksum and its head passed; a check that failed on the way is
 * thrown then. An index laid out any other way is read whole (validatePackIndex).
 */
export function addPackIndex(table: EntryTable, plain: Uint8Array, packId: string, what: string): void {
  let batch: ReturnType<EntryTable['pack']> | undefined;
  let check: ((e: PackedEntry) => PackedEntry) | undefined;
  let failure: { err: unknown } | undefined;
  let late = false; // the head's fields come after the entries: not the layout written, read whole
  const bytes = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  const walk = walkSealed(bufferLines(bytes), (line, head) => {
    if (failure || (late ||= !check && !['format', 'pack', 'packSize'].every((k) => k in head))) return;
    try {
      if (!check) {
        const ix = checkPackHead(head, packId, what);
        check = packEntryChecker(ix, packId, what);
        batch = table.pack(packId, ix.packSize);
      }
      batch!.add(check(parseJson(line.toString('utf8')) as PackedEntry));
    } catch (err) {
      failure = { err: err instanceof CvError ? err : corrupt(`${what} is not valid JSON`) };
    }
  });
  if (walk && walk.arrayKey === 'entries' && !late) {
    const ix = checkPackHead(walk.head, packId, what);
    if (failure) throw failure.err;
    (batch ?? table.pack(packId, ix.packSize)).commit();
    return;
  }
  const ix = validatePackIndex(unsealJsonBytes(plain, what), packId, what);
  table.addPack(packId, ix.packSize, ix.entries);
}
