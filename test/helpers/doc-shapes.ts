import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './cli.js';

/** One row of docs/CLI.md's JSON output table: the keys found at `where` in `command`'s output. */
export interface ShapeRow {
  command: string;
  where: string;
  required: string[];
  optional: string[];
}

/** The rows of the table under "## JSON output" in docs/CLI.md: the test reads the keys from the doc, so the two cannot drift. */
export function docShapes(): ShapeRow[] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/CLI.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## JSON output')).split(/\n## /)[0]!;
  const rows: ShapeRow[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| (.+?) \| `([^`]+)` \| `([^`]+)` \|$/.exec(line);
    if (!m) continue;
    const keys = m[3]!.split(',').map((k) => k.trim());
    rows.push({
      command: m[1]!.replace(/`/g, ''),
      where: m[2]!,
      required: keys.filter((k) => !k.endsWith('?')),
      optional: keys.filter((k) => k.endsWith('?')).map((k) => k.slice(0, -1)),
    });
  }
  return rows;
}

/** The objects `where` selects: `.` the value, `.k` a property, `[]` every element of an array (which must not be empty). */
export function select(value: unknown, where: string): Record<string, unknown>[] {
  let cur: unknown[] = [value];
  for (const step of where.match(/\[\]|\.[^.[]*/g) ?? []) {
    if (step === '.') continue;
    cur = cur.flatMap((v) => {
      if (step === '[]') {
        expect(Array.isArray(v) && v.length > 0, `${where}: expected a non-empty array at ${step}`).toBe(true);
        return v as unknown[];
      }
      return [(v as Record<string, unknown>)[step.slice(1)]];
    });
  }
  return cur as Record<string, unknown>[];
}

/** Asserts that every object `where` selects has the required keys, and no key the row does not list. */
export function expectShape(value: unknown, row: ShapeRow): void {
  for (const obj of select(value, row.where)) {
    expect(obj !== null && typeof obj === 'object' && !Array.isArray(obj), `${row.command} ${row.where} is not an object`).toBe(true);
    const keys = Object.keys(obj);
    const label = `${row.command} ${row.where}`;
    expect({ [label]: row.required.filter((k) => !keys.includes(k)) }, 'documented keys missing').toEqual({ [label]: [] });
    expect({ [label]: keys.filter((k) => !row.required.includes(k) && !row.optional.includes(k)).sort() }, 'undocumented keys').toEqual({ [label]: [] });
  }
}
