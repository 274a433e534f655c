import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: keep at most two test files running at once so timings and memory stay predictable.
    maxWorkers: 2,
  },
});
