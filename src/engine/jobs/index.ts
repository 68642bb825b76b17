export { JobTracker, type JobMeta } from './tracker.js';
export { submitJob, type Submitted } from './submit.js';
export { effective, readRecord, scanRecords, type RecordScan, type JobRecord, type JobState, type JobTableProgress, type JobType } from './record.js';
export { cancelJob, getBackupStatus, getJobMessage, getJobStatus, getRecentJobs, throttleJob, viewer, apiViewer, waitForJob, type JobSummary, type RecentJobs, type StatusRow, type Viewer } from './queries.js';
export { checkJobId, isJobId, newJobId } from './ids.js';
export { currentUser, isAdmin } from './users.js';
export { ensureJobDirs, jobsDir, logsDir, msgFile, outFile, recordFile } from './files.js';
