import { nameMap, parseJson } from '../common/json.js';
import { asMalformed, namesRepeat, partitionChecker, partitionNamer, type ManifestHead, type ManifestPartition, type PartitionSummary } from './manifest.js';
import { checkFileName, passes } from './names.js';

/**
 * A restore point's partition lines read into summaries (no file lists) without building an
 * object per file (issue 14): `list` at 100,000 partitions spent ~60% of its time in JSON.parse of
 * 1.7 million objects, the walk giving them null prototypes, and collecting them.
 *
 * The scanner accepts only a line in the exact shape a backup writes (partitionLine below): keys
 * in their order, strings of printable ASCII without escapes, counts as plain digits. Such a line
 * is JSON, and every value a checker would test is read from it and tested as partitionChecker
 * tests it (file names with checkFileName, each once per point). Anything else (another key order,
 * an escape, a value that fails a test) is read as before, JSON.parse then partitionChecker, so a
 * line the scanner refuses still gets the usual message, and the path and chunk checks (shared,
 * `named`) run once per line whichever way it was read.
 */
export function summaryReader(head: ManifestHead, file: string): (line: Buffer) => PartitionSummary {
  const named = partitionNamer(head);
  const check = partitionChecker(head, file, named);
  const scan = new PartitionScanner(head.tables);
  return (line) => {
    const s = scan.partition(line);
    if (s) {
      asMalformed(file, () => named(s.path, s.chunkId));
      return s;
    }
    const p = parseJson(line.toString('utf8')) as ManifestPartition;
    asMalformed(file, () => check(p));
    return p;
  };
}

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
/** The fixed text of a partition line, in order: {"path":S,"chunkId":S,"tables":{T:{"cid":N,"rows":N,"bytes":N,"updateTime":S,"files":[{"name":S,"size":N,"xxh3":"<16 hex>"},...]},...}} */
const PATH = bytes('{"path":');
const CHUNK = bytes(',"chunkId":');
const TABLES = bytes(',"tables":{');
const CID = bytes(':{"cid":');
const ROWS = bytes(',"rows":');
const BYTES = bytes(',"bytes":');
const TIME = bytes(',"updateTime":');
const FILES = bytes(',"files":[');
const NAME = bytes('{"name":');
const SIZE = bytes(',"size":');
const XXH3 = bytes(',"xxh3":"');
const [QUOTE, COMMA, CLOSE, CLOSE_ARRAY] = [0x22, 0x2c, 0x7d, 0x5d];
/** Counts of more digits than this may not be exact in a double: the scanner leaves them to JSON.parse. */
const MAX_DIGITS = 16;
/** Names of a point matched by their bytes: a point has a few tables, a table a few files (6 for OLAP, 2 for TSDB). */
const KNOWN_NAMES = 64;

/** True when `b` holds `bytes` at `at` (a loop: Buffer.compare's argument checks cost more than these few bytes). */
function sameBytes(b: Buffer, at: number, bytes: Buffer): boolean {
  for (let k = 0; k < bytes.length; k++) if (b[at + k] !== bytes[k]) return false;
  return true;
}

const isFileName = (name: string) => passes(checkFileName, name);

/**
 * Names that passed a test, matched by their bytes: a point has few (its tables, their files), so a
 * name met again costs no string of its own (decoding every file name was a tenth of `list`). The
 * search starts from the name at the same place in the last entry; the first KNOWN_NAMES are kept.
 */
class KnownNames {
  private readonly names: { text: string; bytes: Buffer }[] = [];
  constructor(private readonly valid: (name: string) => boolean) {}

  /** The name in `b` from `start` to `end` (printable ASCII), or undefined when it fails the test. */
  of(b: Buffer, start: number, end: number, hint: number): string | undefined {
    const known = this.names;
    for (let n = 0; n < known.length; n++) {
      const k = known[(hint + n) % known.length]!;
      if (k.bytes.length === end - start && sameBytes(b, start, k.bytes)) return k.text;
    }
    const name = b.toString('latin1', start, end);
    if (!this.valid(name)) return undefined;
    if (known.length < KNOWN_NAMES) known.push({ text: name, bytes: Buffer.from(name, 'latin1') });
    return name;
  }
}

class PartitionScanner {
  private b: Buffer = Buffer.alloc(0);
  private i = 0;
  private readonly names: string[] = [];
  /** The head's tables and the file names that passed checkFileName, as met in this point. */
  private readonly tableNames: KnownNames;
  private readonly fileNames = new KnownNames(isFileName);

  constructor(tables: Record<string, unknown>) {
    this.tableNames = new KnownNames((name) => Object.hasOwn(tables, name));
  }

  /** The line's summary when it is in the written shape and every value passes its check; else undefined. */
  partition(line: Buffer): PartitionSummary | undefined {
    this.b = line;
    this.i = 0;
    if (!this.lit(PATH)) return undefined;
    const path = this.str();
    if (path === undefined || !this.lit(CHUNK)) return undefined;
    const chunkId = this.str();
    if (chunkId === undefined || !this.lit(TABLES)) return undefined;
    const tables = nameMap<PartitionSummary['tables'][string]>();
    if (this.b[this.i] !== CLOSE)
      do {
        const table = this.name(this.tableNames, 0);
        if (table === undefined || Object.hasOwn(tables, table)) return undefined;
        const entry = this.entry();
        if (!entry) return undefined;
        tables[table] = entry;
      } while (this.byte(COMMA));
    return this.byte(CLOSE) && this.byte(CLOSE) && this.i === this.b.length ? { path, chunkId, tables } : undefined;
  }

  /** One table's entry, its files checked: names safe and not repeated, sizes counts adding up to its bytes, checksums 16 hex digits. */
  private entry(): PartitionSummary['tables'][string] | undefined {
    if (!this.lit(CID)) return undefined;
    const cid = this.count();
    if (cid < 0 || !this.lit(ROWS)) return undefined;
    const rows = this.count();
    if (rows < 0 || !this.lit(BYTES)) return undefined;
    const bytes = this.count();
    if (bytes < 0 || !this.lit(TIME)) return undefined;
    const updateTime = this.str();
    if (updateTime === undefined || !this.lit(FILES)) return undefined;
    const names = this.names;
    names.length = 0;
    let sum = 0;
    do {
      if (!this.lit(NAME)) return undefined;
      const name = this.name(this.fileNames, names.length);
      if (name === undefined || !this.lit(SIZE)) return undefined;
      const size = this.count();
      if (size < 0 || !this.lit(XXH3) || !this.hex16() || !this.byte(QUOTE) || !this.byte(CLOSE)) return undefined;
      names.push(name);
      sum += size;
    } while (this.byte(COMMA));
    if (!this.byte(CLOSE_ARRAY) || !this.byte(CLOSE) || sum !== bytes || namesRepeat(names.length, (i) => names[i])) return undefined;
    return { cid, rows, bytes, updateTime };
  }

  /** A string that is one of `known`'s names, or undefined; `hint` is where its like stood in the last entry. */
  private name(known: KnownNames, hint: number): string | undefined {
    const start = this.i + 1;
    const end = this.stringEnd();
    return end < 0 ? undefined : known.of(this.b, start, end, hint);
  }

  private byte(c: number): boolean {
    if (this.b[this.i] !== c) return false;
    this.i++;
    return true;
  }

  private lit(text: Uint8Array): boolean {
    const { b, i } = this;
    if (i + text.length > b.length) return false;
    for (let k = 0; k < text.length; k++) if (b[i + k] !== text[k]) return false;
    this.i += text.length;
    return true;
  }

  /** A string of printable ASCII without escapes (its JSON text is its value), or undefined. */
  private str(): string | undefined {
    const start = this.i + 1;
    const end = this.stringEnd();
    return end < 0 ? undefined : this.b.toString('latin1', start, end);
  }

  /** Steps over a string of printable ASCII without escapes: the index of its closing quote, or -1. */
  private stringEnd(): number {
    const b = this.b;
    if (b[this.i] !== QUOTE) return -1;
    let k = this.i + 1;
    for (let c = b[k]; c !== QUOTE; c = b[++k]) if (c === undefined || c < 0x20 || c > 0x7e || c === 0x5c) return -1;
    this.i = k + 1;
    return k;
  }

  /** A non-negative safe integer written as plain digits (no sign, fraction, exponent or leading zero), or -1. */
  private count(): number {
    const b = this.b;
    const start = this.i;
    let v = 0;
    let k = start;
    for (let c = b[k]!; c >= 0x30 && c <= 0x39; c = b[++k]!) v = v * 10 + (c - 0x30);
    const digits = k - start;
    if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && b[start] === 0x30) || !Number.isSafeInteger(v)) return -1;
    this.i = k;
    return v;
  }

  /** 16 lowercase hex digits. */
  private hex16(): boolean {
    const b = this.b;
    for (let k = this.i; k < this.i + 16; k++) {
      const c = b[k]!;
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
    }
    this.i += 16;
    return true;
  }
}
