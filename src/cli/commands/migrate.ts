import { readMigrations } from '../../db/migrate.ts';
import type { Command } from '../command.ts';

export const migrateCommand: Command = {
  usage: 'migrate',
  summary: 'apply pending database migrations (also done at every start)',
  options: {},
  run: async ({ db, out }) => {
    // boot already applied pending migrations before any command runs; report the state.
    const rows = await db.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name');
    out(`database ${db.kind}: ${rows.length} of ${readMigrations().length} migrations applied, schema up to date`);
  },
};
