/**
 * Applies the committed SQL migrations (`migrations/<timestamp>_<name>/migration.sql`) in name
 * order, on PGlite and PostgreSQL alike, keeping Prisma's `_prisma_migrations` bookkeeping so
 * `prisma migrate status` on a connected machine agrees. Prisma's own `migrate deploy` cannot
 * run here (no native engine; the pg adapter path is broken: prisma/orm#27403).
 *
 * Each migration runs in its own transaction. On PostgreSQL an advisory lock (Prisma's own
 * key) serialises concurrent starts of several processes. A migration whose file changed after
 * it was applied stops the start: that is a history rewrite, not something to paper over.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Session } from './open-database.ts';

export const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url).pathname;
const PRISMA_ADVISORY_LOCK = 72707369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

async function applyAll(session: Session, migrations: Migration[], onApplied: (name: string) => void): Promise<string[]> {
  await session.exec(BOOKKEEPING);
  const rows = await session.query<{ migration_name: string; checksum: string }>(
    'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
  );
  const applied = new Map(rows.map((r) => [r.migration_name, r.checksum]));
  const done: string[] = [];
  for (const m of migrations) {
    const previous = applied.get(m.name);
    if (previous !== undefined) {
      if (previous !== m.checksum) throw new MigrationError(`migration ${m.name} was changed after it was applied (checksum differs); restore the file and add a new migration instead`);
      continue;
    }
    const id = randomUUID();
    // One script, one transaction: the migration and its bookkeeping row commit together.
    await session.exec(
      `BEGIN;\n${m.sql}\n;INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count) VALUES (${quoteLiteral(id)}, ${quoteLiteral(m.checksum)}, ${quoteLiteral(m.name)}, now(), 1);\nCOMMIT;`,
    ).catch(async (err: unknown) => {
      await session.exec('ROLLBACK').catch(() => undefined);
      throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
    });
    done.push(m.name);
    onApplied(m.name);
  }
  return done;
}

/** Applies every pending migration; returns the names applied now. */
export async function migrate(db: Database, options: { dir?: string; onApplied?: (name: string) => void } = {}): Promise<string[]> {
  const migrations = readMigrations(options.dir);
  const onApplied = options.onApplied ?? (() => undefined);
  return db.withSession(async (session) => {
    if (db.kind === 'postgres') await session.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    try {
      return await applyAll(session, migrations, onApplied);
    } finally {
      if (db.kind === 'postgres') await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
    }
  });
}
