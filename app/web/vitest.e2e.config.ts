import { defineConfig } from 'vitest/config';

// Browser tests: Debian's Chromium (playwright-core) against the built dApp and a real local
// chain (`cinder localnet`, the SBF program in genesis). One file at a time: they share ports
// and the 2-core machine.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    environment: 'node',
    globals: true,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
