import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT } from './cli.js';
import { isRoot } from './tmp.js';

/**
 * The real S3 server for tests: the one-host Ceph of scripts/ceph-s3.sh (idempotent and locked,
 * so every S3 test file may call it; a running cluster answers in milliseconds). Not an in-process
 * fake: locks, paging and multipart need a real server (reference/s3-ceph-notes.md).
 */
export const CEPH_REASON = 'skipped: the S3 tests start a one-host Ceph cluster (scripts/ceph-s3.sh), which needs root';
export const SCRIPT = path.join(ROOT, 'scripts/ceph-s3.sh');

export function s3Env(): Record<string, string> {
  const out = execFileSync(SCRIPT, ['env'], { encoding: 'utf8' });
  return Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Starts (or finds running) the gateway and puts its endpoint and test keys into process.env. */
export function ensureCeph(): Record<string, string> {
  execFileSync(SCRIPT, ['up'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const env = s3Env();
  Object.assign(process.env, env);
  return env;
}

export function ceph(cmd: 'up' | 'stop-gateway'): void {
  execFileSync(SCRIPT, [cmd], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
}

export function testClient(env = s3Env()): S3Client {
  return new S3Client({
    endpoint: env.AWS_ENDPOINT_URL!,
    region: env.AWS_REGION!,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    // Other S3 test files run while the fault test stops the gateway for a few seconds.
    maxAttempts: 10,
  });
}

/** A fresh bucket with a unique name (tests never share one). */
export async function newBucket(tag: string): Promise<string> {
  const name = `cv-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`.toLowerCase();
  await testClient().send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/**
 * Removes a test's bucket with every object and unfinished upload in it (radosgw-admin, as the
 * S3 API refuses to delete a bucket that is not empty): the OSD is a 30 GB file that the
 * buckets of a day of runs once filled, after which the gateway stopped answering.
 */
export function removeBucket(name: string): void {
  const conf = path.join(process.env.CV_CEPH_DIR ?? '/var/lib/chunkvault-ceph', 'ceph.conf');
  execFileSync('radosgw-admin', ['-c', conf, '-n', 'client.admin', 'bucket', 'rm', '--bucket', name, '--purge-objects'], { stdio: 'ignore', timeout: 120_000 });
}

export { isRoot };
