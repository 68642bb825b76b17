/**
 * JSON read from disk is untrusted: every object it holds gets a null prototype, so a name read
 * from a file (a table called `constructor` or `__proto__`) is only ever an own key, and a lookup
 * of a name that is not there is undefined rather than something inherited from Object.prototype.
 */
function nullProto(_key: string, v: unknown): unknown {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.assign(Object.create(null) as object, v) : v;
}

/** JSON.parse into null-prototype objects; throws SyntaxError like JSON.parse. */
export function parseJson(text: string): unknown {
  return JSON.parse(text, nullProto);
}

/** A null-prototype copy of a record, for maps keyed by names read from disk. */
export function nameMap<T>(from: Record<string, T> = {}): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from);
}
