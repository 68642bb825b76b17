import { corrupt } from '../common/errors.js';
import { nameMap, parseJson } from '../common/json.js';
import { newXxh3, toHex } from '../io/index.js';

/**
 * JSON that carries a checksum of its own content: `{ ...body, "checksum": "xxh3:<16 hex>" }`.
 * The checksum covers the compact serialisation of the body with the key order written, so a
 * reader recomputes it from the parsed value (whitespace is free, every value and name counts).
 * It catches damage and naive edits; it is not authentication (an editor can recompute it), which
 * is why readers also tie a manifest to its data (store/version-check.ts).
 */
const PREFIX = 'xxh3:';

function digest(body: unknown): string {
  const h = newXxh3();
  h.update(Buffer.from(JSON.stringify(body), 'utf8'));
  return PREFIX + toHex(h.digest());
}

export function sealJson(body: object): string {
  if ('checksum' in body) throw new Error('internal: a sealed body has no checksum field of its own');
  return JSON.stringify({ ...body, checksum: digest(body) }, null, 1) + '\n';
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
  const v = parseUntrusted(text, what);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw corrupt(`${what} is not a JSON object`);
  const { checksum, ...body } = v as Record<string, unknown>;
  if (typeof checksum !== 'string') throw corrupt(`${what} has no checksum of its content`);
  if (checksum !== digest(body)) throw corrupt(`${what} does not match its checksum: it was damaged or edited`);
  return nameMap(body);
}
