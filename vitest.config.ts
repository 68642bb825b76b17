import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // S3 files remove their bucket in afterAll (radosgw-admin --purge-objects): over 60 s once under a loaded suite.
    hookTimeout: 300_000,
    // Tests spawn real processes and do real fsyncs; two cores cannot run many files at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
