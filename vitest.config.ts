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
    // New keys get scrypt N=2^10, not 2^16 (src/repo/keys.ts KDF_DEFAULT): every CLI run on an
    // encrypted repository paid 0.3-0.5 s of a core for the key otherwise. Children inherit it.
    env: { CHUNKVAULT_TESTONLY_WEAKEN_KDF: '1' },
  },
});
