import { usage } from '../common/errors.js';
import { parseType, validateScheme, type ColType, type Level, type Scheme } from '../store/index.js';
import { parseValue } from './values.js';

/**
 * A partition scheme written the way DolphinDB users write it:
 *
 *   COMPO(HASH(SYMBOL,5), VALUE(SYMBOL:tp), VALUE(DATE:2012.01.01..2012.12.31))
 *   RANGE(INT: 0 50 100)      LIST(SYMBOL: [`IBM`ORCL, `MSFT], [GOOG])      VALUE(MONTH: 2012.01M..2012.12M)
 *
 * Values are separated by spaces or commas; `a..b` expands an INT, LONG, DATE or MONTH range;
 * symbols may carry DolphinDB's backtick (`` `IBM`ORCL `` is two). An error names the position.
 */

interface Tok {
  text: string;
  pos: number;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s+|([(),:[\]])|("[^"]*"|[^\s(),:[\]]+)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < src.length && (m = re.exec(src))) {
    if (m[1] ?? m[2]) out.push({ text: (m[1] ?? m[2])!, pos: m.index + 1 });
  }
  if (re.lastIndex < src.length) throw usage(`bad partition scheme at position ${re.lastIndex + 1}: unexpected "${src[re.lastIndex]}"`);
  return out;
}

const MAX_EXPANSION = 1_000_000;

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  fail(what: string, at: Tok | number | undefined = this.toks[this.i]): never {
    if (typeof at === 'number') throw usage(`bad partition scheme at position ${at}: ${what} (in "${this.src}")`);
    const pos = at ? at.pos : this.src.length + 1;
    throw usage(`bad partition scheme at position ${pos}: ${what}, found ${at ? `"${at.text}"` : 'the end'} (in "${this.src}")`);
  }
  peek(): string | undefined {
    return this.toks[this.i]?.text;
  }
  expect(t: string): void {
    if (this.peek() !== t) this.fail(`expected "${t}"`);
    this.i++;
  }

  scheme(): Scheme {
    if (this.peek()?.toUpperCase() === 'COMPO') {
      this.i++;
      this.expect('(');
      const levels = [this.level()];
      while (this.peek() === ',') {
        this.i++;
        levels.push(this.level());
      }
      this.expect(')');
      return { type: 'COMPO', levels };
    }
    return this.level();
  }

  level(): Level {
    const kindTok = this.toks[this.i];
    const kind = this.peek()?.toUpperCase();
    if (kind !== 'HASH' && kind !== 'VALUE' && kind !== 'RANGE' && kind !== 'LIST') this.fail('expected HASH, VALUE, RANGE, LIST or COMPO', kindTok);
    this.i++;
    this.expect('(');
    const typeTok = this.toks[this.i];
    let colType: ColType;
    try {
      colType = parseType(this.peek() ?? '');
    } catch {
      this.fail('expected a column type (INT, LONG, DATE, MONTH, SYMBOL, STRING, TIMESTAMP)', typeTok);
    }
    this.i++;
    if (kind === 'HASH') {
      this.expect(',');
      const n = Number(this.peek());
      if (!Number.isInteger(n) || n < 1) this.fail('expected a bucket count');
      this.i++;
      this.expect(')');
      return { type: 'HASH', colType, buckets: n };
    }
    this.expect(':');
    if (kind === 'LIST') {
      const lists: (string | number)[][] = [];
      do {
        if (lists.length && this.peek() === ',') this.i++;
        this.expect('[');
        lists.push(this.values(colType, ']'));
        this.expect(']');
      } while (this.peek() === '[' || this.peek() === ',');
      this.expect(')');
      return { type: 'LIST', colType, lists };
    }
    const values = this.values(colType, ')');
    this.expect(')');
    return kind === 'VALUE' ? { type: 'VALUE', colType, values } : { type: 'RANGE', colType, bounds: values };
  }

  /** Values up to `end`, separated by spaces or commas. */
  values(type: ColType, end: string): (string | number)[] {
    const out: (string | number)[] = [];
    while (this.peek() !== undefined && this.peek() !== end) {
      const tok = this.toks[this.i]!;
      if (tok.text === ',') {
        this.i++;
        continue;
      }
      if (/^[()[\]:]$/.test(tok.text)) this.fail(`expected a ${type} value or "${end}"`);
      out.push(...this.item(type, tok));
      this.i++;
    }
    if (!out.length) this.fail(`expected at least one ${type} value`);
    return out;
  }

  item(type: ColType, tok: Tok): (string | number)[] {
    const one = (text: string, offset = 0): string | number => {
      const v = parseValue(type, text);
      if (v === undefined || v === '') this.fail(`"${text}" is not a ${type} value`, tok.pos + offset);
      return typeof v === 'bigint' ? Number(v) : v;
    };
    const t = tok.text;
    if (t.startsWith('"')) return [t.slice(1, -1)];
    if ((type === 'SYMBOL' || type === 'STRING') && t.startsWith('`')) return t.slice(1).split('`').map(one);
    const range = t.indexOf('..');
    if (range < 0 || type === 'SYMBOL' || type === 'STRING') return [one(t)];
    if (type === 'TIMESTAMP') this.fail('a TIMESTAMP range a..b cannot be expanded: list the bounds', tok);
    const lo = one(t.slice(0, range)) as number;
    const hi = one(t.slice(range + 2), range + 2) as number;
    if (hi < lo || hi - lo >= MAX_EXPANSION) this.fail(`the range must run upwards and hold at most ${MAX_EXPANSION} values`, tok);
    return Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  }

  end(): void {
    if (this.i < this.toks.length) this.fail('expected the end of the scheme');
  }
}

/** Parses and validates a scheme string; a USAGE error names the position of what is wrong. */
export function parseScheme(src: string): Scheme {
  const p = new Parser(src, tokenize(src));
  const s = p.scheme();
  p.end();
  validateScheme(s);
  return s;
}
