import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { fromSystemError } from '../../common/errors.js';
import { closeFile, openFile } from '../../common/fsio.js';
import { ensureJobDirs, outFile } from './files.js';
import { newJobId } from './ids.js';
import { processStartTicks } from './proc.js';
import { writeRecord, type JobRecord } from './record.js';
import type { JobMeta } from './tracker.js';
import { currentUser } from './users.js';

export interface Submitted {
  jobId: string;
  pid: number;
  /** Where the job's own stdout and stderr go. */
  output: string;
}

/**
 * submitJob: starts `node <script> <args> --job-id <id>` detached (its own session, stdio to
 * `<home>/batchJobs/<id>.out`), records it as queued with the child's pid, and returns at once.
 * The child waits for that record, then runs the command as a tracked job.
 */
export function submitJob(home: string, meta: JobMeta, script: string, args: string[]): Submitted {
  ensureJobDirs(home);
  const user = currentUser();
  const jobId = newJobId();
  const output = outFile(home, jobId);
  let fd: number;
  try {
    fd = openFile(output, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw fromSystemError(err, `cannot create job output ${output}`);
  }
  let pid: number;
  try {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args, '--job-id', jobId], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: process.cwd(),
      env: process.env,
    });
    if (child.pid === undefined) throw new Error(`cannot start ${process.execPath}`);
    pid = child.pid;
    child.unref();
  } finally {
    closeFile(fd);
  }
  const start = processStartTicks(pid);
  const rec: JobRecord = {
    format: 1,
    jobId,
    jobDesc: meta.desc,
    type: meta.type,
    node: os.hostname(),
    userName: meta.apiUser ?? user.name,
    uid: user.uid,
    ...(meta.apiUser !== undefined ? { apiUser: meta.apiUser } : {}),
    receivedTime: new Date().toISOString(),
    state: 'queued',
    pid,
    ...(start === undefined ? {} : { pidStart: start }),
    background: true,
    args: meta.args,
    bytesDone: 0,
    bytesTotal: 0,
    tables: [],
  };
  writeRecord(home, rec);
  return { jobId, pid, output };
}
