import { usage } from '../common/errors.js';

/**
 * A streaming CSV record parser (RFC 4180): any one-character delimiter, fields quoted with `"`
 * (a doubled `""` inside is one quote; quoted fields may hold the delimiter and newlines), LF or
 * CRLF line ends. Text is pushed in pieces of any size; each complete record goes to `onRecord`
 * with the line it starts on. Only the unfinished last record is held between pieces.
 */
export class CsvParser {
  private carry = '';
  private line = 1;
  private readonly delim: number;

  constructor(
    private readonly file: string,
    delimiter: string,
    private readonly onRecord: (fields: string[], line: number) => void,
  ) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw usage(`bad delimiter ${JSON.stringify(delimiter)}: one character, not a quote or a line end`);
    this.delim = delimiter.charCodeAt(0);
  }

  push(text: string): void {
    const s = this.carry ? this.carry + text : text;
    this.carry = s.slice(this.parse(s, false));
  }

  /** The end of the input: a last record without a line end is still a record. */
  end(): void {
    if (this.carry) this.parse(this.carry, true);
    this.carry = '';
  }

  /** Parses complete records from s; returns where the unfinished one begins. */
  private parse(s: string, final: boolean): number {
    const n = s.length;
    const d = this.delim;
    let pos = 0;
    while (pos < n) {
      const start = pos;
      const startLine = this.line;
      const fields: string[] = [];
      let lines = 0;
      let done = false;
      while (!done) {
        if (s.charCodeAt(pos) === 34) {
          // Quoted field: up to the closing quote, "" is one quote.
          let val = '';
          let from = pos + 1;
          for (;;) {
            const q = s.indexOf('"', from);
            if (q < 0) {
              if (!final) return start;
              throw usage(`${this.file}:${startLine}: unterminated quote in field ${fields.length + 1}`);
            }
            if (q + 1 >= n && !final) return start;
            val += s.slice(from, q);
            for (let k = from; k < q; k++) if (s.charCodeAt(k) === 10) lines++;
            if (s.charCodeAt(q + 1) === 34) {
              val += '"';
              from = q + 2;
              continue;
            }
            pos = q + 1;
            break;
          }
          fields.push(val);
          const c = pos < n ? s.charCodeAt(pos) : -1;
          if (c === d) pos++;
          else if (c === 10 || c === 13 || c === -1) done = this.endOfRecord(s, pos, final) !== undefined;
          else throw usage(`${this.file}:${startLine + lines}: unexpected text after the closing quote of field ${fields.length}`);
          if (done) pos = this.endOfRecord(s, pos, final)!;
          else if (c === 10 || c === 13 || c === -1) return start;
          continue;
        }
        // Unquoted field: up to the delimiter or the line end.
        let k = pos;
        while (k < n) {
          const c = s.charCodeAt(k);
          if (c === d || c === 10 || c === 13) break;
          k++;
        }
        if (k >= n && !final) return start;
        let f = s.slice(pos, k);
        if (f.indexOf('"') >= 0) throw usage(`${this.file}:${startLine}: a quote inside unquoted field ${fields.length + 1}: ${JSON.stringify(f.slice(0, 40))}`);
        fields.push(f);
        if (k < n && s.charCodeAt(k) === d) {
          pos = k + 1;
          if (pos >= n && !final) return start;
          if (pos >= n) fields.push((f = ''));
          continue;
        }
        const e = this.endOfRecord(s, k, final);
        if (e === undefined) return start;
        pos = e;
        done = true;
      }
      this.line += 1 + lines;
      // A blank line is no record.
      if (!(fields.length === 1 && fields[0] === '')) this.onRecord(fields, startLine);
    }
    return n;
  }

  /** Past the line end at pos (LF, CRLF or CR); undefined when a CR ends the piece and an LF may follow. */
  private endOfRecord(s: string, pos: number, final: boolean): number | undefined {
    if (pos >= s.length) return final ? pos : undefined;
    if (s.charCodeAt(pos) === 13) {
      if (pos + 1 >= s.length && !final) return undefined;
      return s.charCodeAt(pos + 1) === 10 ? pos + 2 : pos + 1;
    }
    return pos + 1;
  }
}
