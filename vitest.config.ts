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
    // NODE_EXTRA_CA_CERTS emptied for the children: a machine that names a CA bundle there (this one
    // does, for its registry proxy) makes every Node start parse it, ~35 ms of CPU each (node -e 0:
    // 0.11-0.14 against 0.08 CPU s), and the suite starts ~1,400 processes. They talk only to
    // 127.0.0.1 over http.
    env: { CHUNKVAULT_TESTONLY_WEAKEN_KDF: '1', NODE_EXTRA_CA_CERTS: '' },
  },
});
