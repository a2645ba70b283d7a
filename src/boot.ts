/**
 * Shared start-up for the server and the CLI: configuration, database, migrations. Errors a
 * user can fix (bad variables, a locked data directory) are printed as one clear message.
 */
import { ConfigError, loadConfig, type Config } from './config.ts';
import { DatabaseLockedError, openDatabase, type Database } from './db/open-database.ts';
import { migrate } from './db/migrate.ts';
import type { Logger } from './shared/logger.ts';

export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Opens the configured database and applies pending migrations; a locked data directory stops the process with its message. */
export async function openMigratedDatabase(config: Config, logger: Logger): Promise<Database> {
  try {
    return await openAndMigrate(config, logger);
  } catch (err) {
    if (err instanceof DatabaseLockedError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
}

/** Opens the configured database and applies pending migrations. */
export async function openAndMigrate(config: Config, logger: Logger): Promise<Database> {
  const db = await openDatabase(config.database);
  try {
    const applied = await migrate(db, { onApplied: (name) => logger.info({ migration: name }, 'migration applied') });
    if (applied.length === 0) logger.debug('database schema up to date');
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
