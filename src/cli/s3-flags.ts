import type { Command } from 'commander';
import { S3_ENV } from '../common/s3-env.js';

/** The S3 flags every command takes (with `s3://bucket/prefix` wherever a backup directory goes). */
export function addS3Options(program: Command): Command {
  return program
    .option('--s3-endpoint <url>', 'S3 endpoint for s3:// repositories, e.g. http://127.0.0.1:7480 (default: $AWS_ENDPOINT_URL, else AWS)')
    .option('--s3-path-style', 'path-style S3 addressing (endpoint/bucket/key); the default with a custom endpoint');
}

/**
 * Applied before any command runs: the flags become the environment the S3 backend reads, so
 * worker threads and their S3 agents see the same settings. Credentials stay in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and never pass through a flag.
 */
export function applyS3Flags(root: Command): void {
  const o = root.opts<{ s3Endpoint?: string; s3PathStyle?: boolean }>();
  if (o.s3Endpoint) process.env[S3_ENV.endpoint] = o.s3Endpoint;
  if (o.s3PathStyle) process.env[S3_ENV.pathStyle] = '1';
}
