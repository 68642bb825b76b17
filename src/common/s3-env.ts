/**
 * Environment variables the S3 backend reads and the CLI flags --s3-endpoint and --s3-path-style
 * set, so worker threads see them too. Here, not in repo/backend, so the CLI can name them without
 * loading the repository at start-up.
 */
export const S3_ENV = { endpoint: 'AWS_ENDPOINT_URL', pathStyle: 'CHUNKVAULT_S3_PATH_STYLE', retries: 'CHUNKVAULT_S3_RETRIES', uploadAge: 'CHUNKVAULT_S3_UPLOAD_AGE' } as const;
