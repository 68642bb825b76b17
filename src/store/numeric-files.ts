import type { Engine } from './catalog.js';
import { DICT_FILE, LEVEL_RE } from './tsdb-format.js';
import { TYPES, type ColumnDef } from './types.js';

/**
 * The width of the fixed-width numbers a table's data file mostly holds, or 0 when it holds
 * text or 1-byte values: what a byte shuffle before compression needs to know (the repository's
 * `zstd-shuffle4`/`-8` blobs). An OLAP column file of a 4- or 8-byte type holds that type; a
 * TSDB level file of a table without STRING columns holds rows of 4- and 8-byte values and 1- to
 * 4-byte SYMBOL codes, for which 4 did best on the quotes data (0.233 of raw against 0.235 for 8
 * and 0.281 plain). Dictionaries and strings are text, which a shuffle makes less compressible.
 */
export function numberWidth(engine: Engine, schema: ColumnDef[], fileName: string): 0 | 4 | 8 {
  if (engine === 'OLAP') {
    const col = schema.find((c) => `${c.name}.col` === fileName);
    const w = col ? TYPES[col.type].width : 0;
    return w === 4 || w === 8 ? w : 0;
  }
  return fileName !== DICT_FILE && LEVEL_RE.test(fileName) && !schema.some((c) => c.type === 'STRING') ? 4 : 0;
}
