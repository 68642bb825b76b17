/**
 * chunkvault's public, typed API. Everything an embedding program needs is exported here; the
 * folders behind it are internal and may change.
 */
export { CvError, EXIT, type ErrorCode } from './common/errors.js';
export { parseBytes, formatBytes } from './common/units.js';

// The column store.
export {
  Cluster,
  initCluster,
  loadCluster,
  resolveHome,
  isCluster,
  volumesOf,
  createDatabase,
  createPartitionedTable,
  append,
  beginBatch,
  NULL_VALUE,
  isNullValue,
  dropPartition,
  dropTable,
  dropDatabase,
  listDatabases,
  loadDatabase,
  readTable,
  readPartition,
  partitionStats,
  databaseDigest,
  databaseSummary,
  tableDigest,
  pinDatabase,
  levelsOf,
  formatValue,
  type ClusterConfig,
  type Volume,
  type InitOptions,
  type ColumnDef,
  type ColType,
  type Columns,
  type Vector,
  type Scheme,
  type Level,
  type Engine,
  type DatabaseDef,
  type TableDef,
  type TableSpec,
  type ChunkMeta,
  type PartitionStat,
  type TableDigest,
  type DatabaseSummary,
  type PartitionDigest,
  type Snapshot,
  type Batch,
  type BatchOptions,
  type BatchResult,
} from './store/index.js';

// Data in and out: CSV/Parquet loads, exports, DolphinDB scheme strings.
export { loadFile, type LoadOptions, type LoadResult } from './dataio/load.js';
export { exportTable, exportToFile, type ExportOptions, type ExportResult } from './dataio/export.js';
export { parseScheme } from './dataio/scheme-parse.js';

// The copy pipeline.
export { CopyPipeline, type CopyPipelineOptions, type CopyMethod, type FileJob, type FileResult, type HashResult } from './io/index.js';
// Its defaults: one table, with the measurement behind each value; operations fill theirs from it.
export { PIPELINE_DEFAULTS, applyDefaults, describeDefault, restoreDefaults, type FilledPipelineOptions, type PipelineKind, type PipelineOptions } from './io/index.js';

// The operations.
export * from './engine/index.js';

// The data generator.
export { generateQuotes, type GenerateOptions, type GenerateSummary } from './generate/generate.js';
