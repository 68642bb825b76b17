import { formatValue, levelsOf, type Level, type Scheme } from '../store/index.js';

/** More values than this are shown as the first few, an ellipsis, the last and the count. */
const MAX_VALUES = 6;

/** Values as people write them in DolphinDB scripts (2012.01.01, not the stored 15340). */
function values(level: Level, raw: (string | number)[]): string {
  const f = (v: string | number) => formatValue(level.colType, v);
  if (raw.length <= MAX_VALUES) return raw.map(f).join(', ');
  return `${raw.slice(0, MAX_VALUES - 2).map(f).join(', ')}, …, ${f(raw.at(-1)!)} (${raw.length} values)`;
}

function describeLevel(level: Level): string {
  switch (level.type) {
    case 'HASH':
      return `HASH(${level.colType}, ${level.buckets} buckets)`;
    case 'VALUE':
      return `VALUE(${level.colType}: ${values(level, level.values)})`;
    case 'RANGE':
      return `RANGE(${level.colType}: ${values(level, level.bounds)})`;
    case 'LIST':
      return `LIST(${level.colType}: ${level.lists.map((l) => `[${values(level, l)}]`).join(', ')})`;
  }
}

/** A partition scheme on one line for `db describe`, e.g. `COMPO: HASH(SYMBOL, 5 buckets) × VALUE(DATE: 2012.01.01, 2012.01.02)`. */
export function describeScheme(scheme: Scheme): string {
  const levels = levelsOf(scheme).map(describeLevel).join(' × ');
  return scheme.type === 'COMPO' ? `COMPO: ${levels}` : levels;
}
