/**
 * Two projects: `embedded` runs every test on PGlite (the default backend, everywhere), and
 * `postgres` runs the integration suites (*.int.test.ts, *.e2e.test.ts) again on the PostgreSQL
 * server named by DATABASE_URL, when it is set (.ci/run sets it). Redis-backed suites skip
 * themselves without REDIS_URL.
 */
import { defineConfig } from 'vitest/config';

const shared = {
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 120_000,
  // Processed by Vite so a test can replace their native WebRTC dependency (see
  // test/tracker/http/bittorrent-tracker-client.int.test.ts).
  server: { deps: { inline: ['bittorrent-tracker', '@thaunknown/simple-peer'] } },
};

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      // Test databases are restored from one migrated PGlite dump (test/support/pglite-template.ts).
      { test: { ...shared, name: 'embedded', include: ['test/**/*.test.ts'], env: { OT_TEST_BACKEND: 'pglite' }, globalSetup: ['test/support/pglite-template.ts'] } },
      ...(process.env.DATABASE_URL
        ? [{ test: { ...shared, name: 'postgres', include: ['test/**/*.int.test.ts', 'test/**/*.e2e.test.ts'], env: { OT_TEST_BACKEND: 'postgres' } } }]
        : []),
    ],
  },
});
