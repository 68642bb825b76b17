import { CvError } from '../common/errors.js';
import { levelsOf, routeRows, splitByPath, vectorLength, type Scheme, type TableDef, type Vector } from '../store/index.js';

/**
 * Routing a block of rows to partitions, with the line of the row that cannot be routed (a value
 * outside every RANGE, a NULL partition key). The serial load routes in the store's Batch; the
 * parallel load routes in its workers, so the main thread only stages the pieces.
 */

function slice(v: Vector, i: number): Vector {
  if (v.kind === 'sym') return { kind: 'sym', dict: v.dict, codes: v.codes.subarray(i, i + 1) };
  if (v.kind === 'str') return { kind: 'str', values: v.values.slice(i, i + 1) };
  return { kind: 'num', type: v.type, values: v.values.subarray(i, i + 1) };
}

/** The routing error `err` located: `${file}:${line}: column C: …` for the first row that causes it. */
export function locateRouteError(err: unknown, scheme: Scheme, t: Pick<TableDef, 'schema' | 'partitionColumns'>, cols: Record<string, Vector>, file: string, lineOf: (row: number) => number): unknown {
  if (!(err instanceof CvError)) return err;
  const levels = levelsOf(scheme);
  const rows = vectorLength(cols[t.schema[0]!.name]!);
  for (let i = 0; i < rows; i++) {
    for (let li = 0; li < levels.length; li++) {
      const name = t.partitionColumns[li]!;
      try {
        routeRows(levels[li]!, [{ type: t.schema.find((s) => s.name === name)!.type, vec: slice(cols[name]!, i) }]);
      } catch (e) {
        if (e instanceof CvError) return new CvError(e.code, `${file}:${lineOf(i)}: column ${name}: ${e.message}`);
        throw e;
      }
    }
  }
  return err;
}

export interface RoutedBlock {
  paths: string[];
  parts: Record<string, Vector>[];
  newValues: [number, (string | number)[]][];
}

/** Splits a block's rows by partition under `scheme`; a row that has none throws, located. */
export function routeBlock(scheme: Scheme, t: Pick<TableDef, 'schema' | 'partitionColumns'>, cols: Record<string, Vector>, rows: number, file: string, lineOf: (row: number) => number): RoutedBlock {
  const keyCols = t.partitionColumns.map((name) => ({ type: t.schema.find((s) => s.name === name)!.type, vec: cols[name]! }));
  try {
    const { paths, rowPath, newValues } = routeRows(scheme, keyCols);
    const pieces = splitByPath(cols, rows, paths, rowPath);
    return { paths, parts: pieces.map((p) => p.cols), newValues: [...newValues].map(([li, v]) => [li, [...v]]) };
  } catch (err) {
    throw locateRouteError(err, scheme, t, cols, file, lineOf);
  }
}
