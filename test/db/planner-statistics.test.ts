/**
 * The embedded database gets the planner statistics PostgreSQL's autovacuum would keep
 * (src/db/planner-statistics.ts): without them a catalogue page sorts the whole table.
 */
import { describe, expect, it } from 'vitest';
import { keepPlannerStatistics } from '../../src/db/planner-statistics.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { createLogger } from '../../src/shared/logger.ts';

describe('planner statistics on PGlite', () => {
  it('analyses the tables soon after start, and again on its schedule', async () => {
    const db = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      await migrate(db);
      await db.exec(`INSERT INTO users (username, username_lower, password_hash, passkey) SELECT 'u'||i, 'u'||i, 'x', md5('u'||i) FROM generate_series(1, 2000) i`);
      const estimate = async () => (await db.query<{ n: number }>(`SELECT reltuples::int AS n FROM pg_class WHERE relname = 'users'`))[0]?.n;
      expect(await estimate()).toBeLessThan(2000);
      const stop = keepPlannerStatistics(db, createLogger('silent'), 200);
      await expect.poll(estimate, { timeout: 10_000 }).toBe(2000);
      await db.exec(`INSERT INTO users (username, username_lower, password_hash, passkey) SELECT 'v'||i, 'v'||i, 'x', md5('v'||i) FROM generate_series(1, 1000) i`);
      await expect.poll(estimate, { timeout: 10_000 }).toBe(3000);
      stop();
    } finally {
      await db.close();
    }
  });
});
