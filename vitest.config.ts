import { defineConfig } from 'vitest/config';

// Kernel tests share the machine's XDP hooks, bpffs and interface names such
// as a namespace's lo; they run one file at a time in their own project, while
// everything else runs in parallel.
const shared = { testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks' as const };

export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/kernel/**', 'node_modules/**'] } },
      { test: { ...shared, name: 'kernel', include: ['test/kernel/**/*.test.ts'], fileParallelism: false } },
    ],
  },
});
