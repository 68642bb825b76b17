/**
 * A copy worker's task for `copy` between repositories whose codecs differ (another master key,
 * encrypted and not, another compression): the given entries of one source pack are read blob by
 * blob, decoded with the source's codec and checked against their plain xxh3, then encoded with
 * the target's codec into one new pack at the target. The pack is durable under its name before
 * the task returns; its index (the entries with their new blobs) is written after, by the main
 * thread, so a target never indexes a pack it does not hold.
 */
import { CvError, corrupt } from '../common/errors.js';
// hash-hex, not io's index: the index loads the copy pipeline's modules into every worker that imports this.
import { newXxh3, toHex } from '../io/hash-hex.js';
import type { WorkerContext } from '../io/index.js';
import { backendFor, takeAgents, type BackendSpec, type ObjectSink, type WithAgents } from './backend/index.js';
import { shuffleWidthOf, type BlobCodec, type BlobCodecSpec, type ShuffleWidth } from './codec/index.js';
import { decodeBlob, packHeader, packObject, type BlobRef, type PackedEntry, type PackedFile } from './pack-format.js';
import { PackReaders, type ForeignSizes } from './pack-readers.js';
import { blobBuffer, codecOf } from './pack-read.js';
import { entryUrl } from '../common/entry-points.js';

export interface RecodePackTask {
  src: BackendSpec;
  srcCodec: BlobCodecSpec;
  dst: BackendSpec;
  dstCodec: BlobCodecSpec;
  /** The source pack, its indexed size, and the entries of it to copy (as its index records them). */
  pack: string;
  packSize: number;
  entries: PackedEntry[];
  /** The sizes of the foreign packs their blobs name: foreign blobs are read there and inlined into the new pack. */
  foreign: ForeignSizes;
  /** The id of the new pack at the target. */
  newPack: string;
  /**
   * Per entry, per file: the width of the numbers it holds (store numberWidth; 0 for none), so a
   * file stored unshuffled (from an `off` repository) is shuffled for a compressing target as a
   * backup would; a file of width 0 keeps the shuffle its blobs had.
   */
  widths: (ShuffleWidth | 0)[][];
}

export const RECODE_PACK_TASK = entryUrl('pack-recode-task').href;

export default function recodePack(t: WithAgents<RecodePackTask>, ctx: WorkerContext): { packSize: number; entries: PackedEntry[] } {
  takeAgents(t);
  const backend = backendFor(t.src);
  const reader = backend.open(packObject(t.pack));
  if (!reader) throw corrupt(`pack ${t.pack} is missing from ${t.src.root}`);
  try {
    if (reader.size !== t.packSize) throw corrupt(`pack ${t.pack} in ${t.src.root} is ${reader.size} bytes, its index says ${t.packSize}`);
    const readers = new PackReaders(backend, reader, t.foreign, t.entries.flatMap((e) => e.files.flatMap((f) => f.blobs)));
    const sink = backendFor(t.dst).create(packObject(t.newPack));
    try {
      sink.append(packHeader());
      const [from, to] = [codecOf(t.srcCodec), codecOf(t.dstCodec)];
      const entries = t.entries.map((e, i) => ({ ...e, files: e.files.map((f, j) => recodeFile(f, readers, `${e.key}/${f.name}`, { from, to, width: t.widths[i]?.[j] ?? 0 }, sink, ctx)) }));
      sink.commit();
      return { packSize: sink.size, entries };
    } catch (err) {
      sink.abort();
      throw err;
    } finally {
      readers.close();
    }
  } finally {
    reader.close();
  }
}

/** One file's blobs: decoded and checked (each blob, then the whole file), encoded again and appended. */
function recodeFile(f: PackedFile, readers: PackReaders, what: string, codecs: { from: BlobCodec; to: BlobCodec; width: ShuffleWidth | 0 }, sink: ObjectSink, ctx: WorkerContext): PackedFile {
  const { from, to, width } = codecs;
  const whole = newXxh3();
  const blobs: BlobRef[] = [];
  for (const b of f.blobs) {
    if (ctx.stopped() || !ctx.acquire(b.rawLength)) throw new CvError('CANCELLED', 'copy cancelled');
    const plain = decodeBlob(readers.for(b, what), b, from, blobBuffer());
    const h = newXxh3();
    h.update(plain);
    if (plain.byteLength !== b.rawLength || toHex(h.digest()) !== b.xxh3) throw corrupt(`a blob of ${f.name} at offset ${b.offset} does not match its checksum`);
    whole.update(plain);
    const offset = sink.size;
    const enc = to.blobEncoder((s) => sink.append(s), b.rawLength, width || shuffleWidthOf(b.compression));
    enc.update(plain);
    const e = enc.end();
    blobs.push({ offset, length: e.length, rawLength: b.rawLength, xxh3: b.xxh3, compression: e.compression, ...(e.nonce ? { nonce: Buffer.from(e.nonce).toString('base64') } : {}) });
    ctx.progress(b.rawLength);
  }
  if (toHex(whole.digest()) !== f.xxh3) throw corrupt(`${f.name}: its blobs do not add up to its checksum ${f.xxh3}`);
  return { name: f.name, size: f.size, xxh3: f.xxh3, blobs };
}
