import { usage } from '../common/errors.js';
import { NULL_VALUE, allocNumeric, type ColumnDef, type NumArray, type Vector } from '../store/index.js';
import { parseValue } from './values.js';

/**
 * Builds one column of a batch from text cells: typed arrays for numbers and times, a dictionary
 * and codes for SYMBOL. A cell equal to the NULL string (default: empty) is NULL.
 */
export class ColumnBuilder {
  private n = 0;
  private nums: NumArray | undefined;
  private codes: Uint32Array | undefined;
  private dict: string[] = [];
  private index = new Map<string, number>();
  private strs: string[] = [];
  private readonly nullValue: number | bigint | undefined;

  constructor(
    readonly col: ColumnDef,
    private readonly capacity: number,
  ) {
    this.nullValue = col.type === 'SYMBOL' || col.type === 'STRING' ? undefined : NULL_VALUE[col.type];
    this.reset();
  }

  reset(): void {
    this.n = 0;
    const t = this.col.type;
    this.nums = undefined;
    this.codes = undefined;
    if (t === 'SYMBOL') {
      this.codes = new Uint32Array(this.capacity);
      this.dict = [];
      this.index = new Map();
    } else if (t === 'STRING') this.strs = [];
    else this.nums = allocNumeric(t, this.capacity);
  }

  /** Adds one cell; returns false when the text is not a value of the column's type. */
  add(text: string, isNull: boolean): boolean {
    const i = this.n++;
    if (this.codes) {
      const s = isNull ? '' : text;
      let c = this.index.get(s);
      if (c === undefined) this.index.set(s, (c = this.dict.push(s) - 1));
      this.codes[i] = c;
      return true;
    }
    if (!this.nums) {
      this.strs.push(isNull ? '' : text);
      return true;
    }
    const v = isNull ? this.nullValue! : parseValue(this.col.type, text);
    if (v === undefined) {
      this.n--;
      return false;
    }
    (this.nums as Float64Array)[i] = v as number;
    return true;
  }

  /** Adds a value already typed (Parquet): null is NULL. */
  addValue(v: unknown): boolean {
    if (v === null || v === undefined) return this.add('', true);
    const t = this.col.type;
    if (this.codes || !this.nums) return typeof v === 'string' ? this.add(v, false) : false;
    if (t === 'LONG') {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isInteger(v))) return false;
      (this.nums as BigInt64Array)[this.n++] = BigInt(v);
      return true;
    }
    if (typeof v === 'boolean' && t === 'BOOL') return this.add(v ? 'true' : 'false', false);
    if (v instanceof Date) return this.add(t === 'DATE' ? v.toISOString().slice(0, 10) : v.toISOString(), false);
    if (typeof v === 'bigint') return this.add(v.toString(), false);
    if (typeof v === 'number') {
      if (t === 'FLOAT' || t === 'DOUBLE' || t === 'INT') return this.add(String(v), false);
      if (t === 'TIMESTAMP' && Number.isSafeInteger(v)) {
        (this.nums as Float64Array)[this.n++] = v;
        return true;
      }
      return false;
    }
    return typeof v === 'string' ? this.add(v, false) : false;
  }

  get length(): number {
    return this.n;
  }

  /** The column so far as a store vector (views on the builder's arrays: call reset() only after the batch is staged). */
  vector(): Vector {
    const t = this.col.type;
    if (this.codes) return { kind: 'sym', dict: this.dict, codes: this.codes.subarray(0, this.n) };
    if (!this.nums) return { kind: 'str', values: this.strs };
    return { kind: 'num', type: t, values: this.nums.subarray(0, this.n) };
  }
}

/** One CSV record into the builders (`map[j]` is the field of table column j); a short or long row or a bad value throws, naming the line. */
export function fillRow(builders: ColumnBuilder[], map: number[], fields: string[], line: number, file: string, nullString: string): void {
  if (fields.length !== map.length) throw usage(`${file}:${line}: ${fields.length < map.length ? 'short' : 'long'} row: ${fields.length} field(s), expected ${map.length}`);
  for (let j = 0; j < builders.length; j++) {
    const text = fields[map[j]!]!;
    if (!builders[j]!.add(text, text === nullString))
      throw usage(`${file}:${line}: column ${builders[j]!.col.name}: "${text.length > 60 ? text.slice(0, 60) + '…' : text}" is not a ${builders[j]!.col.type}`);
  }
}
