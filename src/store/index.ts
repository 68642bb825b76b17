/**
 * The store's surface, name by name. Left out on purpose: functions that need the caller to hold
 * the database lock (`*Locked`, `nextCid`), raw catalog writes (`saveDatabase`, `saveChunk`) and
 * the steps of a commit: outside the store, data is published only through commit.ts.
 */

// Column types and vectors.
export { NULL_VALUE, TYPES, allocNumeric, dateToDays, isNullValue, parseType, formatValue, valueAt, vectorFrom, vectorLength, type ColType, type ColumnDef, type Columns, type NumArray, type Vector } from './types.js';

// Partition schemes.
export { hashString, levelName, levelNames, levelsOf, parsePartitionPath, partitionPathTest, routeRows, validateScheme, valueDirName, type Level, type Scheme } from './scheme.js';

// The cluster home.
export { initCluster, isCluster, isUnfinishedHome, loadCluster, resolveHome, volumesOf, type ClusterConfig, type InitOptions, type NodeConfig, type Volume, type VolumeConfig } from './cluster.js';

// The catalog, read side.
export { Cluster, dbNameOf, hasDatabase, listDatabases, loadChunks, loadDatabase, tableOf } from './catalog.js';
export { loadSummaries, warmChunks } from './chunk-summaries.js';
export type { ChunkSummary, TableSummary } from './chunk-index.js';
export type { ChunkMeta, DatabaseDef, Engine, FileEntry, TableDef, TableVersion } from './catalog.js';

// Databases, tables and partitions: each takes the lock it needs.
export { addValuePartitions, createDatabase, createPartitionedTable, dropDatabase, dropPartition, dropTable, type TableSpec } from './database.js';

// Publishing data: stage a version of (chunk, table), write its files, commit it.
export { commitStages, ensureChunks, placeChunks, stageVersion, type Stage, type StagedCommit, type StagedFiles } from './commit.js';
export { append, writeTableFiles } from './writer.js';
export { BlockEncoder, openTableStreams, type StreamTarget, type TableStreams } from './stream-writer.js';
// A load: many partitions committed at once (a commit record), or none.
export { Batch, beginBatch, splitByPath, type BatchOptions, type BatchResult } from './batch.js';

// Reading: pinned snapshots, partitions and tables, statistics and digests.
export { pinDatabase, pinSummaries, type Snapshot, type SummarySnapshot } from './mvcc.js';
export { forEachVersionRange, rangeReadable } from './column-ranges.js';
export { partitionStats, readPartition, readTable, readVersionDir, type PartitionStat } from './reader.js';
export { databaseDigest, tableDigest, type PartitionDigest, type TableDigest } from './digest.js';
export { databaseSummary, type DatabaseSummary } from './summary.js';
export { HEADER_BYTES, readFramed, readHeaderBytes, xxh3Of } from './framed-file.js';
export { versionProblem, type FileHead } from './version-check.js';
export { numberWidth } from './numeric-files.js';
