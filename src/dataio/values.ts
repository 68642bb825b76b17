import { dateToDays, NULL_VALUE, type ColType } from '../store/index.js';
import { formatFloat32 } from './float32.js';

/**
 * Text <-> value for one column type: DolphinDB's literals (2012.01.01, 2012.01M, 09:30:00.000,
 * 2012.01.01T09:30:00.000, true) and ISO 8601 (2012-01-01, 2012-01, 2012-01-01T09:30:00.000Z) in;
 * DolphinDB's literals out. Values use the store's in-memory encodings; NULL is the type's
 * DolphinDB encoding (NULL_VALUE). `parseValue` returns undefined for text that is not a value.
 */

const MS_PER_DAY = 86_400_000;
const DATE_RE = /^(\d{4})[.-](\d{2})[.-](\d{2})$/;
const MONTH_RE = /^(\d{4})[.-](\d{2})M?$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;
const TS_RE = /^(\d{4})[.-](\d{2})[.-](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const INT_RE = /^[+-]?\d+$/;

/** Days since 1970 of a real calendar date, or undefined (2012.02.30 is not a date). */
export function calendarDays(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  const n = dateToDays(y, m, d);
  const back = new Date(n * MS_PER_DAY);
  return back.getUTCDate() === d ? n : undefined;
}

const dayCache = new Map<string, number | undefined>();
/** The days of a `yyyy.MM.dd` prefix, cached: a file has few distinct dates and many rows per date. */
function cachedDays(s: string): number | undefined {
  let v = dayCache.get(s);
  if (v === undefined && !dayCache.has(s)) {
    const m = DATE_RE.exec(s);
    v = m ? calendarDays(+m[1]!, +m[2]!, +m[3]!) : undefined;
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(s, v);
  }
  return v;
}

function parseTime(h: number, mi: number, s: number, frac: string | undefined): number | undefined {
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return ((h * 60 + mi) * 60 + s) * 1000 + (frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0);
}

/** A fast path for the common `yyyy.MM.ddTHH:mm:ss.mmm` (DolphinDB's own form) before the general one. */
function parseTimestamp(t: string): number | undefined {
  if (t.length === 23 && (t.charCodeAt(10) === 84 || t.charCodeAt(10) === 32) && t.charCodeAt(19) === 46) {
    const d = cachedDays(t.slice(0, 10));
    const ms = TIME_RE.exec(t.slice(11));
    if (d !== undefined && ms) {
      const tm = parseTime(+ms[1]!, +ms[2]!, +ms[3]!, ms[4]);
      if (tm !== undefined) return d * MS_PER_DAY + tm;
    }
  }
  const m = TS_RE.exec(t);
  if (!m) return undefined;
  const d = calendarDays(+m[1]!, +m[2]!, +m[3]!);
  const tm = parseTime(+(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7]);
  if (d === undefined || tm === undefined) return undefined;
  let off = 0;
  if (m[8] && m[8] !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(m[8])!;
    off = (z[1] === '-' ? -1 : 1) * (+z[2]! * 60 + +z[3]!) * 60_000;
  }
  return d * MS_PER_DAY + tm - off;
}

function parseInt32(t: string): number | undefined {
  if (!INT_RE.test(t)) return undefined;
  const n = Number(t);
  return n >= -2147483647 && n <= 2147483647 ? n : undefined;
}

/** Parses non-empty text as a value of `type`; undefined when it is not one. */
export function parseValue(type: ColType, t: string): number | bigint | string | undefined {
  switch (type) {
    case 'SYMBOL':
    case 'STRING':
      return t;
    case 'INT':
      return parseInt32(t);
    case 'LONG': {
      if (!INT_RE.test(t)) return undefined;
      const n = BigInt(t);
      return n > -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const n = Number(t);
      if (t.trim() === '' || !Number.isFinite(n)) return undefined;
      return type === 'FLOAT' && !Number.isFinite(Math.fround(n)) ? undefined : n;
    }
    case 'BOOL': {
      const l = t.toLowerCase();
      return l === 'true' || l === '1' ? 1 : l === 'false' || l === '0' ? 0 : undefined;
    }
    case 'DATE': {
      const m = DATE_RE.exec(t);
      return m ? calendarDays(+m[1]!, +m[2]!, +m[3]!) : undefined;
    }
    case 'MONTH': {
      const m = MONTH_RE.exec(t);
      return m && +m[2]! >= 1 && +m[2]! <= 12 ? +m[1]! * 12 + +m[2]! - 1 : undefined;
    }
    case 'TIME': {
      const m = TIME_RE.exec(t);
      return m ? parseTime(+m[1]!, +m[2]!, +m[3]!, m[4]) : undefined;
    }
    case 'TIMESTAMP':
      return parseTimestamp(t);
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

const dateText = new Map<number, string>();
/** yyyy.MM.dd of a day number, cached: an export meets few distinct days and many rows per day. */
function formatDate(d: number): string {
  let s = dateText.get(d);
  if (s === undefined) {
    const dt = new Date(d * MS_PER_DAY);
    s = `${pad(dt.getUTCFullYear(), 4)}.${pad(dt.getUTCMonth() + 1, 2)}.${pad(dt.getUTCDate(), 2)}`;
    if (dateText.size > 100_000) dateText.clear();
    dateText.set(d, s);
  }
  return s;
}
const formatTime = (ms: number) => `${pad(Math.floor(ms / 3_600_000), 2)}:${pad(Math.floor(ms / 60_000) % 60, 2)}:${pad(Math.floor(ms / 1000) % 60, 2)}.${pad(ms % 1000, 3)}`;

/** DolphinDB's literal for a value; '' for NULL. */
export function formatValue(type: ColType, v: number | bigint | string): string {
  if (typeof v === 'string') return v;
  if (type !== 'SYMBOL' && type !== 'STRING' && v === NULL_VALUE[type]) return '';
  if (typeof v === 'bigint') return v.toString();
  switch (type) {
    case 'BOOL':
      return v ? 'true' : 'false';
    case 'DATE':
      return formatDate(v);
    case 'MONTH':
      return `${pad(Math.floor(v / 12), 4)}.${pad((v % 12) + 1, 2)}M`;
    case 'TIME':
      return formatTime(v);
    case 'TIMESTAMP': {
      const d = Math.floor(v / MS_PER_DAY);
      return `${formatDate(d)}T${formatTime(v - d * MS_PER_DAY)}`;
    }
    case 'FLOAT':
      return formatFloat32(v);
    default:
      return String(v);
  }
}
