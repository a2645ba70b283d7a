/**
 * The committed migrations produce exactly the database schema.prisma describes: both are
 * applied to fresh databases (the migrations by our migrator, the schema through
 * `prisma migrate diff --from-empty`) and their catalogs compared. Indexes Prisma cannot
 * express (e.g. full-text expression indexes) are named `raw_*` in their migration and left out.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/open-database.ts';
import { openTestDatabase } from '../support/test-app.ts';
import { freshPostgres } from '../support/test-app.ts';
import { openDatabase } from '../../src/db/open-database.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function catalog(db: Database) {
  const columns = await db.query(`SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name`);
  const constraints = await db.query(`SELECT c.conrelid::regclass::text AS tbl, c.conname, c.contype, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> '"_prisma_migrations"' AND c.conrelid::regclass::text <> '_prisma_migrations' ORDER BY 1, 2`);
  const indexes = await db.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' AND indexname NOT LIKE 'raw\\_%' ORDER BY 1, 2`);
  const enums = await db.query(`SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY 1, 3`);
  return { columns, constraints, indexes, enums };
}

function schemaSql(): string {
  return execFileSync('npx', ['prisma', 'migrate', 'diff', '--from-empty', '--to-schema-datamodel', 'schema.prisma', '--script'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, PRISMA_QUERY_ENGINE_LIBRARY: './package.json', DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://localhost/unused' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

describe('migrations', () => {
  it('produce exactly what schema.prisma describes', { timeout: 300_000 }, async () => {
    const migrated = await openTestDatabase();
    const pgdb = await freshPostgres();
    const fromSchema = await openDatabase(pgdb ? { kind: 'postgres', url: pgdb.url } : { kind: 'pglite', dataDir: null });
    try {
      await fromSchema.exec(schemaSql());
      expect(await catalog(migrated.db)).toEqual(await catalog(fromSchema));
    } finally {
      await migrated.close();
      await fromSchema.close();
      await pgdb?.drop();
    }
  });

  it('are applied once: a second run applies nothing, and bookkeeping matches Prisma', async () => {
    const t = await openTestDatabase();
    try {
      expect(await migrate(t.db)).toEqual([]);
      const rows = await t.db.query<{ migration_name: string; checksum: string; applied_steps_count: number }>('SELECT migration_name, checksum, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name');
      expect(rows.map((r) => r.migration_name)).toEqual(readMigrations().map((m) => m.name));
      expect(rows.map((r) => r.checksum)).toEqual(readMigrations().map((m) => m.checksum));
    } finally {
      await t.close();
    }
  });

  it('refuse to start when an applied migration was edited afterwards', async () => {
    const t = await openTestDatabase();
    try {
      await t.db.exec(`UPDATE "_prisma_migrations" SET checksum = 'tampered'`);
      await expect(migrate(t.db)).rejects.toThrow(/was changed after it was applied/);
    } finally {
      await t.close();
    }
  });
});
