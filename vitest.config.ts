import { defineConfig } from 'vitest/config';

// Three projects, each runnable alone: `npm run test:unit` (pure, no servers), `test:integration`
// (live Redis, PostgreSQL, MariaDB and servers the tests start), `test:e2e` (the built CLI, so
// `npm run build` first). `npm test` builds and runs all three.
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
    // Port 1 refuses connections: a CLI run or a demo seed that forgot its private --redis fails
    // loudly here instead of quietly reading (or refusing) the machine's shared Redis on 6379.
    env: { SHADOWCHECK_REDIS_URL: 'redis://127.0.0.1:1/0', SHADOWCHECK_DEMO_REDIS_URL: 'redis://127.0.0.1:1/13' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
