import { corrupt } from '../common/errors.js';
import { nameMap, parseJson } from '../common/json.js';
import { newXxh3, toHex } from '../io/hash-hex.js'; // not io's index: workers import this file

/**
 * JSON that carries a checksum of its own content: `{ ...body, "checksum": "xxh3:<16 hex>" }`.
 * The checksum covers the compact serialisation of the body with the key order written, so a
 * reader recomputes it from the parsed value (whitespace is free, every value and name counts).
 * It catches damage and naive edits; it is not authentication (an editor can recompute it), which
 * is why readers also tie a manifest to its data (store/version-check.ts).
 *
 * At scale (a manifest of 100,000 partitions is ~100 MB) neither the checksum nor the file is
 * built as one string: both go piece by piece, one top-level value or one array element at a time.
 */
const PREFIX = 'xxh3:';
/** Pieces are hashed and written in runs of about this many characters. */
const RUN = 1 << 16;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
/** What JSON.stringify leaves out of an object (and writes as null in an array). */
const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * An element of a top-level array already serialised as compact JSON (a partition a backup carries
 * from the previous point as the line it read and verified): written, and hashed, as it is. The
 * text is asked for as it is written, so 100,000 of them are never held as strings at once.
 */
export class RawJson {
  constructor(readonly text: () => string) {}
}

/**
 * The compact JSON of `body` in pieces whose concatenation is exactly JSON.stringify(body); with
 * `lines`, each top-level key and each element of a top-level array starts a new line (whitespace
 * the checksum ignores), so the file reads one partition per line.
 */
function* pieces(body: Record<string, unknown>, lines: boolean): Generator<string> {
  const nl = lines ? '\n' : '';
  yield '{';
  let first = true;
  for (const [k, v] of Object.entries(body)) {
    if (omitted(v)) continue;
    yield `${first ? '' : ','}${nl}${JSON.stringify(k)}:`;
    first = false;
    if (Array.isArray(v)) {
      yield '[';
      for (let i = 0; i < v.length; i++) yield `${i ? ',' : ''}${nl}${v[i] instanceof RawJson ? (v[i] as RawJson).text() : omitted(v[i]) ? 'null' : JSON.stringify(v[i])}`;
      yield `${v.length ? nl : ''}]`;
    } else yield JSON.stringify(v);
  }
  yield `${nl}}`;
}

/** Joins pieces into runs of about RUN characters. */
function* runs(parts: Iterable<string>): Generator<string> {
  let buf: string[] = [];
  let n = 0;
  for (const p of parts) {
    buf.push(p);
    n += p.length;
    if (n >= RUN) {
      yield buf.join('');
      buf = [];
      n = 0;
    }
  }
  if (buf.length) yield buf.join('');
}

function digest(body: unknown): string {
  const h = newXxh3();
  if (isRecord(body)) for (const r of runs(pieces(body, false))) h.update(Buffer.from(r, 'utf8'));
  else h.update(Buffer.from(JSON.stringify(body), 'utf8'));
  return PREFIX + toHex(h.digest());
}

/** The sealed file, in runs of text: one top-level key, or one element of a top-level array, per line. */
export function* sealJsonRuns(body: object): Generator<string> {
  if ('checksum' in body) throw new Error('internal: a sealed body has no checksum field of its own');
  if (!isRecord(body) || Object.values(body).every(omitted)) {
    yield* runs(pieces({ ...body, checksum: digest(body) }, true));
    yield '\n';
    return;
  }
  // One pass: the checksum is the last key, so each run is hashed (less the newlines between lines,
  // which are the only raw newlines) as it is written. Two passes made every carried partition's
  // text twice: 200 MiB of inflated slabs at 100,000 partitions, a no-change backup's peak of RSS.
  const h = newXxh3();
  const all = pieces(body, true);
  let held = all.next();
  const rest = function* () {
    for (let n = all.next(); !n.done; n = all.next()) {
      yield held.value as string;
      held = n;
    }
  };
  for (const r of runs(rest())) {
    // A string, not a Buffer: the hasher encodes it as UTF-8 itself, without a 1 MiB buffer per run.
    h.update(r.replaceAll('\n', ''));
    yield r;
  }
  // The held piece closes the body: hashed as `}`, written after the checksum.
  const close = held.value as string;
  h.update(close.replaceAll('\n', ''));
  yield `,\n"checksum":${JSON.stringify(PREFIX + toHex(h.digest()))}${close}\n`;
}

export function sealJson(body: object): string {
  return [...sealJsonRuns(body)].join('');
}

/** Parses untrusted JSON into null-prototype objects; CORRUPT (naming `what`) when it is not JSON. */
export function parseUntrusted(text: string, what: string): unknown {
  try {
    return parseJson(text);
  } catch {
    throw corrupt(`${what} is not valid JSON`);
  }
}

/** Parses sealed JSON and verifies its checksum; returns the body (without the checksum). */
export function unsealJson(text: string, what: string): Record<string, unknown> {
  return verified(parseUntrusted(text, what), what);
}

/**
 * The lines sealJsonRuns writes, parsed one at a time from the bytes: no string of the whole file
 * is made (at 100,000 partitions a manifest is ~130 MB). Undefined when the text is laid out any
 * other way (an older, indented point), for the caller to parse it whole.
 */
function parseLines(lines: Iterable<string>): Record<string, unknown> | undefined {
  const out = nameMap<unknown>();
  let arr: unknown[] | undefined;
  let line = 0;
  let done = false;
  try {
    for (const text of lines) {
      if (done) {
        if (text.trim() !== '') return undefined;
        continue;
      }
      if (line++ === 0) {
        if (text !== '{') return undefined;
        continue;
      }
      if (text === '}') {
        done = true;
        continue;
      }
      const item = text.endsWith(',') ? text.slice(0, -1) : text;
      if (arr) {
        if (item === ']') arr = undefined;
        else arr.push(parseJson(item));
      } else if (item.endsWith(':[')) out[JSON.parse(item.slice(0, -2)) as string] = arr = [];
      else Object.assign(out, parseJson(`{${item}}`));
    }
  } catch {
    return undefined;
  }
  return done ? out : undefined;
}

/** The lines of a buffer, as views of it. */
export function* bufferLines(buf: Buffer): Generator<Buffer> {
  for (let pos = 0; pos < buf.length; ) {
    let end = buf.indexOf(0x0a, pos);
    if (end < 0) end = buf.length;
    yield buf.subarray(pos, end);
    pos = end + 1;
  }
}

const CHECKSUM_KEY = Buffer.from('"checksum":');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from('}');
const OPEN = Buffer.from('{');
const FAILED = Symbol('not JSON');
/** JSON from bytes into null-prototype objects, or FAILED (a caller that meets it parses the file whole). */
function parsed(b: Buffer): unknown {
  try {
    return parseJson(b.toString('utf8'));
  } catch {
    return FAILED;
  }
}
const is = (line: Buffer, text: string) => line.length === text.length && line.toString('latin1') === text;

/** A sealed file walked as sealJsonRuns laid it out: its top-level fields but the array, and the array's length. */
export interface SealedWalk {
  head: Record<string, unknown>;
  arrayKey: string | undefined;
  elements: number;
}

/**
 * Walks a sealed file laid out exactly as sealJsonRuns writes it (one field, or one element of its
 * one top-level array, per line; the checksum last), hashing the bytes as they are: for such a
 * file they are the compact serialisation the checksum covers, so no element is parsed to verify
 * it. Each element's line goes to `element` unparsed (its bytes are reused after the call), with the
 * fields read so far, before the checksum is known: the caller
 * believes nothing until this returns. Undefined when the file is laid out any other way or its
 * bytes do not hash to its checksum: the caller then parses it whole (unsealJson re-serialises,
 * so whitespace stays free and a damaged file gets the usual message).
 */
export function walkSealed(lines: Iterable<Buffer>, element?: (line: Buffer, headSoFar: Readonly<Record<string, unknown>>) => void): SealedWalk | undefined {
  const h = newXxh3();
  const head = nameMap<unknown>();
  let arrayKey: string | undefined;
  let inArray = false;
  let elements = 0;
  let checksum: unknown;
  let pending = false;
  let state: 'open' | 'body' | 'closed' = 'open';
  for (const line of lines) {
    if (state === 'closed') {
      if (line.length) return undefined;
    } else if (state === 'open') {
      if (!is(line, '{')) return undefined;
      h.update(line);
      state = 'body';
    } else if (is(line, '}')) {
      if (checksum === undefined || inArray) return undefined;
      state = 'closed';
    } else {
      if (checksum !== undefined) return undefined;
      const comma = line[line.length - 1] === 0x2c;
      const body = comma ? line.subarray(0, -1) : line;
      if (!inArray && line.subarray(0, CHECKSUM_KEY.length).equals(CHECKSUM_KEY)) {
        if (comma || !pending) return undefined;
        checksum = parsed(body.subarray(CHECKSUM_KEY.length));
        pending = false;
        continue;
      }
      if (pending) h.update(COMMA);
      // An element's comma is hashed with it, one update a line (a call into the hasher per comma was
      // ~3% of `list` at 100,000 partitions); the comma before the checksum is never an element's.
      const closes = inArray && is(body, ']');
      const withComma = comma && inArray && !closes;
      h.update(withComma ? line : body);
      pending = comma && !withComma;
      if (inArray) {
        if (closes) inArray = false;
        else {
          elements++;
          element?.(body, head);
        }
      } else if (body.length > 2 && body[body.length - 2] === 0x3a && body[body.length - 1] === 0x5b) {
        const key = parsed(body.subarray(0, -2));
        if (arrayKey !== undefined || typeof key !== 'string') return undefined;
        arrayKey = key;
        inArray = true;
      } else {
        const field = parsed(Buffer.concat([OPEN, body, CLOSE]));
        if (field === FAILED) return undefined;
        Object.assign(head, field);
      }
    }
  }
  if (state !== 'closed' || typeof checksum !== 'string') return undefined;
  h.update(CLOSE);
  return checksum === PREFIX + toHex(h.digest()) ? { head, arrayKey, elements } : undefined;
}

/**
 * unsealJson over a file read in pieces (`linesRead`), line by line when it is laid out as
 * sealJsonRuns writes it; otherwise `whole()` gives its text to be parsed whole.
 */
export function unsealJsonLines(lines: Iterable<string>, whole: () => string, what: string): Record<string, unknown> {
  return verified(parseLines(lines) ?? parseUntrusted(whole(), what), what);
}

/**
 * unsealJson from bytes. Laid out as sealJsonRuns writes it, the file is verified from its bytes
 * as they are (walkSealed) and each element parsed from its line: verified() re-serialises what it
 * parsed to hash it, a fifth of reading a pack index. Any other layout, or bytes that do not hash
 * to the checksum, are parsed and verified as before (and get its message).
 */
export function unsealJsonBytes(buf: Uint8Array, what: string): Record<string, unknown> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const elements: unknown[] = [];
  const walk = walkSealed(bufferLines(b), (line) => void elements.push(parsed(line)));
  if (walk && !elements.includes(FAILED)) {
    if (walk.arrayKey !== undefined) walk.head[walk.arrayKey] = elements;
    return walk.head;
  }
  const lines = (function* () {
    for (const line of bufferLines(b)) yield line.toString('utf8');
  })();
  return verified(parseLines(lines) ?? parseUntrusted(b.toString('utf8'), what), what);
}

function verified(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw corrupt(`${what} is not a JSON object`);
  const { checksum, ...body } = v as Record<string, unknown>;
  if (typeof checksum !== 'string') throw corrupt(`${what} has no checksum of its content`);
  if (checksum !== digest(body)) throw corrupt(`${what} does not match its checksum: it was damaged or edited`);
  return nameMap(body);
}
