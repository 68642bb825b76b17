import { usage } from '../common/errors.js';
import type { RowSink } from './load.js';

/** Parquet input (not yet built). */
export async function loadParquet(_sink: RowSink, file: string, _onBytes: (n: number) => void): Promise<void> {
  throw usage(`${file}: Parquet input is not supported yet`);
}
