import { conflict, usage } from '../common/errors.js';
import { daysToMonth, daysToYmd, formatValue, isNullValue, timestampToDays, type ColType, type Vector } from './types.js';

/** One level of a partition scheme. VALUE/RANGE/LIST values use the in-memory encodings of types.ts. */
export type Level =
  | { type: 'VALUE'; colType: ColType; values: (string | number)[] }
  | { type: 'RANGE'; colType: ColType; bounds: (string | number)[] }
  | { type: 'HASH'; colType: ColType; buckets: number }
  | { type: 'LIST'; colType: ColType; lists: (string | number)[][] };

export type Scheme = Level | { type: 'COMPO'; levels: Level[] };

export const levelsOf = (s: Scheme): Level[] => (s.type === 'COMPO' ? s.levels : [s]);

const PARTITION_TYPES: ColType[] = ['INT', 'LONG', 'DATE', 'MONTH', 'SYMBOL', 'STRING', 'TIMESTAMP'];

export function validateScheme(s: Scheme): void {
  if (s.type === 'COMPO') {
    if (!Array.isArray(s.levels) || s.levels.length < 2) throw usage('bad scheme: COMPO needs at least 2 levels');
    for (const l of s.levels) {
      if ((l as Scheme).type === 'COMPO') throw usage('bad scheme: COMPO levels cannot be COMPO');
      validateLevel(l);
    }
    return;
  }
  validateLevel(s);
}

function validateLevel(l: Level): void {
  if (!PARTITION_TYPES.includes(l.colType)) throw usage(`bad scheme: ${l.type} cannot partition on ${l.colType}`);
  switch (l.type) {
    case 'HASH':
      if (!Number.isInteger(l.buckets) || l.buckets < 1) throw usage('bad scheme: HASH needs a positive bucket count');
      return;
    case 'VALUE':
      if (!Array.isArray(l.values)) throw usage('bad scheme: VALUE needs a list of values');
      if (new Set(l.values).size !== l.values.length) throw usage('bad scheme: VALUE has duplicate values');
      return;
    case 'RANGE':
      if (!Array.isArray(l.bounds) || l.bounds.length < 2) throw usage('bad scheme: RANGE needs at least 2 bounds');
      for (let i = 1; i < l.bounds.length; i++)
        if (!(l.bounds[i]! > l.bounds[i - 1]!)) throw usage('bad scheme: RANGE bounds must be strictly increasing');
      return;
    case 'LIST': {
      if (!Array.isArray(l.lists) || l.lists.length < 1) throw usage('bad scheme: LIST needs at least one list');
      const all = l.lists.flat();
      if (new Set(all).size !== all.length) throw usage('bad scheme: LIST has a value in two lists');
      return;
    }
    default:
      throw usage(`bad scheme: unknown partition type "${(l as { type: string }).type}"`);
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** DolphinDB's directory name for one value: 20120101 (DATE), 201201M (MONTH), the symbol itself. */
export function valueDirName(colType: ColType, v: string | number): string {
  if (colType === 'DATE') {
    const [y, m, d] = daysToYmd(v as number);
    return `${pad(y, 4)}${pad(m, 2)}${pad(d, 2)}`;
  }
  if (colType === 'MONTH') return `${pad(Math.floor((v as number) / 12), 4)}${pad(((v as number) % 12) + 1, 2)}M`;
  return String(v);
}

/** FNV-1a over UTF-8: stable across processes and machines, so a symbol always lands in the same Key. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, 'utf8');
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** Converts a column's value to the level's domain (a TIMESTAMP column under a VALUE DATE level). */
function toDomain(level: Level, colType: ColType, v: string | number): string | number {
  if (typeof v === 'string' || level.colType === colType) return v;
  let days: number | undefined;
  if (colType === 'TIMESTAMP') days = timestampToDays(v);
  else if (colType === 'DATE') days = v;
  if (days !== undefined && level.colType === 'DATE') return days;
  if (days !== undefined && level.colType === 'MONTH') return daysToMonth(days);
  throw conflict(`scheme mismatch: a ${level.colType} partition level cannot take a ${colType} column`);
}

/** A partition name becomes one directory name: refuse values that would be none, or several, or leave the volume. */
function dirComponent(name: string, raw: string | number): string {
  if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name))
    throw conflict(`value ${JSON.stringify(raw)} cannot name a partition directory (empty, "." or "..", or contains "/" or NUL)`);
  return name;
}

/** Returns the partition directory name for value v at this level, or throws if no partition takes it. */
export function levelName(level: Level, colType: ColType, raw: string | number): string {
  if (colType !== 'SYMBOL' && colType !== 'STRING' && isNullValue(colType, raw)) throw conflict(`a NULL ${colType} cannot name a partition`);
  const v = toDomain(level, colType, raw);
  switch (level.type) {
    case 'HASH': {
      const h = typeof v === 'string' ? hashString(v) : Math.abs(Math.trunc(v));
      return `Key${h % level.buckets}`;
    }
    case 'VALUE':
      return dirComponent(valueDirName(level.colType, v), raw);
    case 'RANGE': {
      const b = level.bounds;
      if (v < b[0]! || v >= b[b.length - 1]!) throw conflict(`value ${formatValue(colType, raw)} is outside every RANGE partition`);
      let lo = 0;
      while (!(v >= b[lo]! && v < b[lo + 1]!)) lo++;
      return dirComponent(`${valueDirName(level.colType, b[lo]!)}_${valueDirName(level.colType, b[lo + 1]!)}`, raw);
    }
    case 'LIST': {
      const i = level.lists.findIndex((l) => l.includes(v));
      if (i < 0) throw conflict(`value ${formatValue(colType, raw)} is in no LIST partition`);
      return `List${i}`;
    }
  }
}

/** Every partition name a level can produce (VALUE grows on append, so it lists the known values). */
export function levelNames(level: Level): string[] {
  switch (level.type) {
    case 'HASH':
      return Array.from({ length: level.buckets }, (_, i) => `Key${i}`);
    case 'VALUE':
      return level.values.map((v) => valueDirName(level.colType, v));
    case 'RANGE':
      return level.bounds.slice(1).map((hi, i) => `${valueDirName(level.colType, level.bounds[i]!)}_${valueDirName(level.colType, hi)}`);
    case 'LIST':
      return level.lists.map((_, i) => `List${i}`);
  }
}

/**
 * Routes every row of a batch to its partition path (e.g. "/Key3/tp/20120101"). Values are
 * named once per distinct value, not once per row, so routing millions of rows stays cheap.
 */
export function routeRows(scheme: Scheme, cols: { type: ColType; vec: Vector }[]): { paths: string[]; rowPath: Uint32Array; newValues: Map<number, Set<string | number>> } {
  const levels = levelsOf(scheme);
  const n = cols[0] ? (cols[0].vec.kind === 'sym' ? cols[0].vec.codes.length : cols[0].vec.values.length) : 0;
  const perLevel: { names: string[]; code: Uint32Array }[] = [];
  const newValues = new Map<number, Set<string | number>>();
  levels.forEach((level, li) => {
    const { type, vec } = cols[li]!;
    const names: string[] = [];
    const code = new Uint32Array(n);
    const seen = new Map<string | number | bigint, number>();
    const known = level.type === 'VALUE' ? new Set(level.values) : undefined;
    const nameOf = (raw: string | number) => {
      const name = levelName(level, type, raw);
      if (known) {
        const dv = toDomain(level, type, raw);
        if (!known.has(dv)) {
          if (!newValues.has(li)) newValues.set(li, new Set());
          newValues.get(li)!.add(dv);
        }
      }
      return names.push(name) - 1;
    };
    if (vec.kind === 'sym') {
      const byCode = vec.dict.map((s) => nameOf(s));
      for (let i = 0; i < n; i++) code[i] = byCode[vec.codes[i]!]!;
    } else {
      for (let i = 0; i < n; i++) {
        let key = vec.values[i]!;
        // TIMESTAMP rows of one day share a partition: key the cache by day.
        if (type === 'TIMESTAMP' && level.type !== 'HASH' && !isNullValue(type, key)) key = timestampToDays(key as number) * 86_400_000;
        let c = seen.get(key);
        if (c === undefined) {
          c = nameOf(typeof key === 'bigint' ? Number(key) : (key as string | number));
          seen.set(key, c);
        }
        code[i] = c;
      }
    }
    perLevel.push({ names, code });
  });
  // Combine per-level codes into one number per row, then name each distinct combination once.
  const paths: string[] = [];
  const byCombo = new Map<number | string, number>();
  const byPath = new Map<string, number>();
  const rowPath = new Uint32Array(n);
  // Past 2^52 combinations the numeric key would lose precision: fall back to keying by path.
  const exact = perLevel.reduce((a, l) => a * Math.max(1, l.names.length), 1) < 2 ** 52;
  for (let i = 0; i < n; i++) {
    let combo: number | string = 0;
    if (exact) for (const l of perLevel) combo = combo * l.names.length + l.code[i]!;
    else combo = perLevel.map((l) => l.code[i]).join(',');
    let idx = byCombo.get(combo);
    if (idx === undefined) {
      const p = perLevel.map((l) => '/' + l.names[l.code[i]!]).join('');
      idx = byPath.get(p) ?? paths.push(p) - 1;
      byPath.set(p, idx);
      byCombo.set(combo, idx);
    }
    rowPath[i] = idx;
  }
  return { paths, rowPath, newValues };
}

/** A test that a path names one existing partition of each level of the scheme, e.g. /Key3/tp/20120101. */
/**
 * Adds values to VALUE levels (level index -> values) in place, skipping values a level already
 * has. Returns whether anything was added. Only VALUE levels grow: any other is a CONFLICT.
 */
export function extendValueLevels(scheme: Scheme, additions: ReadonlyMap<number, Iterable<string | number>>): boolean {
  const levels = levelsOf(scheme);
  let added = false;
  for (const [i, vals] of additions) {
    const level = levels[i];
    if (level?.type !== 'VALUE') throw conflict(`level ${i + 1} of the partition scheme is not a VALUE level: it cannot gain partitions`);
    const have = new Set<string | number>(level.values);
    for (const v of vals)
      if (!have.has(v)) {
        level.values.push(v);
        have.add(v);
        added = true;
      }
  }
  return added;
}

export function partitionPathTest(scheme: Scheme): (partPath: string) => boolean {
  const sets = levelsOf(scheme).map((l) => new Set(levelNames(l)));
  return (partPath) => {
    const parts = partPath.slice(1).split('/');
    return parts.length === sets.length && parts.every((p, i) => sets[i]!.has(p));
  };
}

/** Checks that a path like "/Key3/tp/20120101" has one valid component per level of the scheme. */
export function parsePartitionPath(scheme: Scheme, p: string): string {
  const parts = p.replace(/^\/+|\/+$/g, '').split('/');
  const levels = levelsOf(scheme);
  if (parts.length !== levels.length || parts.some((x) => x === '' || x === '.' || x === '..'))
    throw usage(`bad partition path "${p}": expected ${levels.length} level(s) like /${levels.map((l) => levelNames(l)[0] ?? 'X').join('/')}`);
  return '/' + parts.join('/');
}
