import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn real processes and do real fsyncs; two cores cannot run many files at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
