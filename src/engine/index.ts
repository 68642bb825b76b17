export { backup, type BackupOptions, type BackupResult } from './backup.js';
export { listPoints, prune, type PointInfo, type PruneResult } from './points.js';
export type { Observer, OperationOptions, PipelineOptions } from './options.js';
export { Repository, listRepositories } from './repo/repository.js';
export { readManifest, resolvePoint, type Manifest, type ManifestEntry, type ManifestFile, type ManifestPartition } from './repo/manifest.js';
export { restore, restoreDb, restoreTable, type RestoreOptions, type RestoreDbOptions, type RestoreTableOptions, type RestoreResult, type RestoreRow } from './restore.js';
export { migrate, type MigrateOptions, type MigrateResult, type MigrateRow } from './migrate.js';
