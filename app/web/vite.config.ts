import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  // Served from any path (the e2e serves dist/ from a local static server).
  base: './',
  build: { target: 'es2022', sourcemap: true },
  test: {
    include: ['tests/unit/**/*.test.{ts,tsx}'],
    environment: 'node',
    globals: true,
    testTimeout: 20_000,
  },
});
