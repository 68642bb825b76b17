export { CopyPipeline, type CopyPipelineOptions } from './copy-pipeline.js';
export { DEDUP_MIN_BYTES, PIPELINE_DEFAULTS, applyDefaults, describeDefault, restoreDefaults, type FilledPipelineOptions, type PipelineKind, type PipelineOptions } from './defaults.js';
export type { CopyMethod, UsedMethod, FileJob, FileResult, HashResult, HashProblem, WorkerContext } from './types.js';
export { DiskQueue } from './disk-queue.js';
export { diskOf, fsTypeOf, mayClone, type FsType } from './disk-id.js';
export { Throttle } from './throttle.js';
export { CancelFlag, ByteCounter } from './shared-state.js';
export { ProgressMeter, type ProgressSample } from './progress.js';
export { newXxh3, toHex } from './hash-hex.js';
