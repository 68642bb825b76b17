import { usage } from '../common/errors.js';

/** Column types with DolphinDB's type ids (typeInt), as getBackupMeta reports them. */
export const TYPES = {
  BOOL: { id: 1, width: 1 },
  INT: { id: 4, width: 4 },
  LONG: { id: 5, width: 8 },
  DATE: { id: 6, width: 4 },
  MONTH: { id: 7, width: 4 },
  TIME: { id: 8, width: 4 },
  TIMESTAMP: { id: 12, width: 8 },
  FLOAT: { id: 15, width: 4 },
  DOUBLE: { id: 16, width: 8 },
  SYMBOL: { id: 17, width: 0 },
  STRING: { id: 18, width: 0 },
} as const;

export type ColType = keyof typeof TYPES;
export const TYPE_NAMES = Object.keys(TYPES) as ColType[];

export function parseType(name: string): ColType {
  const t = name.toUpperCase();
  if (!(t in TYPES)) throw usage(`unknown column type "${name}" (expected one of ${TYPE_NAMES.join(', ')})`);
  return t as ColType;
}

export function typeById(id: number): ColType | undefined {
  return TYPE_NAMES.find((t) => TYPES[t].id === id);
}

export interface ColumnDef {
  name: string;
  type: ColType;
  comment?: string;
}

/**
 * In-memory column vectors. Numeric types keep DolphinDB's integer encodings (DATE = days since
 * 1970-01-01, MONTH = year*12+month-1, TIME = ms of day); TIMESTAMP is ms since the epoch in a
 * Float64Array (exact below 2^53) so generators and routing avoid BigInt arithmetic.
 */
export type NumArray = Int8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
export type Vector =
  | { kind: 'num'; type: ColType; values: NumArray }
  | { kind: 'sym'; dict: string[]; codes: Uint32Array }
  | { kind: 'str'; values: string[] };

/** A columnar batch of rows: one vector per column, all of equal length. */
export type Columns = Record<string, Vector>;

export function vectorLength(v: Vector): number {
  return v.kind === 'sym' ? v.codes.length : v.values.length;
}

export function allocNumeric(type: ColType, n: number): NumArray {
  switch (type) {
    case 'BOOL':
      return new Int8Array(n);
    case 'INT':
    case 'DATE':
    case 'MONTH':
    case 'TIME':
      return new Int32Array(n);
    case 'LONG':
      return new BigInt64Array(n);
    case 'TIMESTAMP':
    case 'DOUBLE':
      return new Float64Array(n);
    case 'FLOAT':
      return new Float32Array(n);
    default:
      throw new Error(`${type} is not numeric`);
  }
}

/**
 * DolphinDB's NULL encodings: the minimum value of integral and temporal types (BOOL is a CHAR:
 * -128), -FLT_MAX / -DBL_MAX for FLOAT / DOUBLE, and the empty string for SYMBOL / STRING.
 * TIMESTAMP's -2^63 is exact in a Float64Array.
 */
export const NULL_VALUE: Readonly<Record<Exclude<ColType, 'SYMBOL' | 'STRING'>, number | bigint>> = {
  BOOL: -128,
  INT: -2147483648,
  LONG: -(2n ** 63n),
  DATE: -2147483648,
  MONTH: -2147483648,
  TIME: -2147483648,
  TIMESTAMP: -(2 ** 63),
  FLOAT: -3.4028234663852886e38,
  DOUBLE: -Number.MAX_VALUE,
};

/** Whether a stored value is NULL for its type. */
export function isNullValue(type: ColType, v: string | number | bigint): boolean {
  if (type === 'SYMBOL' || type === 'STRING') return v === '';
  return v === NULL_VALUE[type];
}

/** Builds a vector from plain JS values (null is NULL), checking each value against the column's type. */
export function vectorFrom(col: ColumnDef, input: unknown[]): Vector {
  const bad = (v: unknown) => usage(`type mismatch: column ${col.name} is ${col.type}, got ${JSON.stringify(v)}`);
  const values = input.map((v) => (v !== null ? v : col.type === 'SYMBOL' || col.type === 'STRING' ? '' : NULL_VALUE[col.type]));
  if (col.type === 'STRING') {
    return { kind: 'str', values: values.map((v) => (typeof v === 'string' ? v : (() => { throw bad(v); })())) };
  }
  if (col.type === 'SYMBOL') {
    const dict: string[] = [];
    const index = new Map<string, number>();
    const codes = new Uint32Array(values.length);
    values.forEach((v, i) => {
      if (typeof v !== 'string') throw bad(v);
      let c = index.get(v);
      if (c === undefined) index.set(v, (c = dict.push(v) - 1));
      codes[i] = c;
    });
    return { kind: 'sym', dict, codes };
  }
  const out = allocNumeric(col.type, values.length);
  values.forEach((v, i) => {
    if (col.type === 'LONG') {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isInteger(v))) throw bad(v);
      (out as BigInt64Array)[i] = BigInt(v);
      return;
    }
    if (col.type === 'BOOL' && typeof v === 'boolean') {
      out[i] = v ? 1 : 0;
      return;
    }
    if (v === (NULL_VALUE as Record<string, unknown>)[col.type]) {
      out[i] = v as number;
      return;
    }
    if (typeof v !== 'number' || Number.isNaN(v)) throw bad(v);
    const integral = col.type !== 'FLOAT' && col.type !== 'DOUBLE';
    if (integral && !Number.isInteger(v)) throw bad(v);
    // Typed arrays wrap out-of-range integers silently; refuse them instead of storing another value.
    if (col.type === 'BOOL' && v !== 0 && v !== 1) throw bad(v);
    if (TYPES[col.type].width === 4 && integral && (v < -2147483648 || v > 2147483647)) throw bad(v);
    if (col.type === 'TIMESTAMP' && !Number.isSafeInteger(v)) throw bad(v);
    (out as Float64Array)[i] = v;
  });
  return { kind: 'num', type: col.type, values: out };
}

/** Reads one value of a vector as a plain JS value (for display and tests). */
export function valueAt(v: Vector, i: number): string | number | bigint {
  if (v.kind === 'sym') return v.dict[v.codes[i]!]!;
  return v.values[i]!;
}

const MS_PER_DAY = 86_400_000;

export function dateToDays(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / MS_PER_DAY);
}
export function daysToYmd(days: number): [number, number, number] {
  const dt = new Date(days * MS_PER_DAY);
  return [dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate()];
}
export function timestampToDays(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}
export function daysToMonth(days: number): number {
  const [y, m] = daysToYmd(days);
  return y * 12 + m - 1;
}
export const MS_PER_DAY_CONST = MS_PER_DAY;

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** DolphinDB's literal forms: 2012.01.01, 2012.01M, 2012.01.01T09:30:00.000. */
export function formatValue(type: ColType, v: string | number | bigint): string {
  if (typeof v === 'string' || typeof v === 'bigint') return String(v);
  switch (type) {
    case 'DATE': {
      const [y, m, d] = daysToYmd(v);
      return `${pad(y, 4)}.${pad(m, 2)}.${pad(d, 2)}`;
    }
    case 'MONTH':
      return `${pad(Math.floor(v / 12), 4)}.${pad((v % 12) + 1, 2)}M`;
    case 'TIMESTAMP':
      return new Date(v).toISOString().replace(/-/g, '.').replace('Z', '');
    default:
      return String(v);
  }
}

/** Parses DolphinDB-style literals for scheme values given on the command line or in JSON. */
export function parseScalar(type: ColType, text: string | number): string | number {
  if (typeof text === 'number') return text;
  const bad = () => usage(`bad ${type} value "${text}"`);
  switch (type) {
    case 'SYMBOL':
    case 'STRING':
      return text;
    case 'DATE': {
      const m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(text);
      if (!m) throw bad();
      return dateToDays(+m[1]!, +m[2]!, +m[3]!);
    }
    case 'MONTH': {
      const m = /^(\d{4})\.(\d{2})M$/.exec(text);
      if (!m) throw bad();
      return +m[1]! * 12 + +m[2]! - 1;
    }
    default: {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw bad();
      return n;
    }
  }
}
