import { defineConfig } from 'vitest/config';

// Integration tests build real network namespaces and push real packets; on a
// 2-core machine they are run a few at a time so timings stay meaningful.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    fileParallelism: true,
  },
});
