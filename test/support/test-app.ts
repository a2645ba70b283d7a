/**
 * Starts the real server for a test: in-memory PGlite by default, or (in the vitest `postgres`
 * project) a fresh database on the server named by DATABASE_URL, created here and dropped on
 * stop; migrations applied,
 * listening on an ephemeral port of 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { createApp, type App, type AppOptions } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase, type Database } from '../../src/db/open-database.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.ts';

export interface TestApp {
  app: App;
  db: Database;
  config: Config;
  url: string;
  port: number;
  /** Stops the app (graceful: final flush) and the database. */
  stop(): Promise<void>;
}

/** True in the vitest `postgres` project (DATABASE_URL set); otherwise tests use PGlite. */
export const onPostgres = process.env.OT_TEST_BACKEND === 'postgres' && Boolean(process.env.DATABASE_URL);

/** A fresh PostgreSQL database on DATABASE_URL's server, or null to use in-memory PGlite. */
export async function freshPostgres(): Promise<ScratchDatabase | null> {
  const base = process.env.DATABASE_URL;
  if (!onPostgres || !base) return null;
  return createScratchDatabase(base, `ot_test_${process.pid}`);
}

let template: Uint8Array<ArrayBuffer> | undefined;
/** The migrated PGlite dump of test/support/pglite-template.ts, read once per test file. */
function pgliteTemplate(): Uint8Array<ArrayBuffer> | undefined {
  if (template) return template;
  const path = inject('pgliteTemplate');
  if (!path) return undefined;
  const bytes = readFileSync(path);
  template = new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return template;
}

/** An open, migrated test database (PGlite in memory or a fresh PostgreSQL database). */
export async function openTestDatabase(): Promise<{ db: Database; url: string | null; close(): Promise<void> }> {
  const pgdb = await freshPostgres();
  const from = pgdb ? undefined : pgliteTemplate();
  const db = await openDatabase(pgdb ? { kind: 'postgres', url: pgdb.url } : { kind: 'pglite', dataDir: null, ...(from ? { from } : {}) });
  // A no-op on the template (it holds every migration); the whole run on PostgreSQL.
  await migrate(db);
  return {
    db,
    url: pgdb?.url ?? null,
    close: async () => {
      await db.close();
      await pgdb?.drop();
    },
  };
}

export function testConfig(env: Record<string, string> = {}, databaseUrl: string | null = null): Config {
  const { DATABASE_URL: _ignored, ...rest } = env;
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...rest }, { inMemory: true });
}

/** Swarm backends to run shared suites on: memory always, Redis when REDIS_URL is set. */
export const swarmBackends: Array<'memory' | 'redis'> = process.env.REDIS_URL ? ['memory', 'redis'] : ['memory'];

export async function startTestApp(env: Record<string, string> = {}, options: AppOptions & { host?: string; port?: number; swarmBackend?: 'memory' | 'redis' } = {}): Promise<TestApp> {
  const test = await openTestDatabase();
  const { host = '127.0.0.1', port = 0, swarmBackend = 'memory', ...appOptions } = options;
  const redisPrefix = `ot-test-${randomBytes(5).toString('hex')}`;
  const redisEnv: Record<string, string> = swarmBackend === 'redis' ? { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: redisPrefix } : {};
  const config = testConfig({ ...env, ...redisEnv }, test.url);
  const app = await createApp(config, test.db, { logger: createLogger('silent'), ...appOptions });
  const address = await app.listen(port, host);
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    db: test.db,
    config: { ...config, publicUrl: url },
    url,
    port: address.port,
    stop: async () => {
      await app.stop();
      await test.close();
      if (swarmBackend === 'redis') await dropRedisPrefix(config.redisUrl as string, redisPrefix);
    },
  };
}

export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  try {
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length > 0) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}
