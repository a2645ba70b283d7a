/**
 * The database a CLI command runs against. With PostgreSQL, or with no server running, the CLI
 * opens it itself (applying pending migrations, as the server does at start). While an
 * embedded server holds the data directory, the command runs here, in the CLI's process, on
 * the server's own connection through its socket (src/cli/socket.ts): PGlite is one process.
 */
import { openAndMigrate, openMigratedDatabase } from '../boot.ts';
import type { Config } from '../config.ts';
import { readMigrations } from '../db/migrate.ts';
import { connectPgliteSocket, DatabaseLockedError, type Database } from '../db/open-database.ts';
import type { Logger } from '../shared/logger.ts';
import { findCliSocket } from './socket.ts';

export class CliDatabaseError extends Error {
  override name = 'CliDatabaseError';
}

/** The server's schema must be this CLI's: a newer CLI must not migrate a live server's database under it. */
async function requireSameSchema(db: Database, serverPid: number): Promise<void> {
  const rows = await db.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
  const applied = new Set(rows.map((r) => r.migration_name));
  const missing = readMigrations().filter((m) => !applied.has(m.name));
  if (missing.length > 0) {
    throw new CliDatabaseError(`the running server (pid ${serverPid}) has not applied migration ${missing[0]?.name}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}: restart it (it migrates at start), then run the command again`);
  }
}

export async function openCliDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.database.kind !== 'pglite' || config.database.dataDir === null) return openMigratedDatabase(config, logger);
  const socket = await findCliSocket(config.dataDir);
  let stale: string | null = null;
  if (socket) {
    try {
      const db = await connectPgliteSocket(socket);
      try {
        await requireSameSchema(db, db.serverPid);
      } catch (err) {
        await db.close();
        throw err;
      }
      logger.info({ serverPid: db.serverPid, socket }, 'running the command on the database of the running server');
      return db;
    } catch (err) {
      // A socket file nobody listens on: left by a server that was killed, or by one that hangs.
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw err;
      stale = `its socket ${socket} is stale (nothing listens on it)`;
    }
  }
  try {
    return await openAndMigrate(config, logger);
  } catch (err) {
    if (!(err instanceof DatabaseLockedError)) throw err;
    const why = stale ?? `it does not share its database on ${socket ?? `${config.dataDir}/run/cli.sock`}`;
    throw new CliDatabaseError(`the data directory ${config.dataDir} is in use by process ${err.pid}, but ${why}: if that process is an OpenTracker server, it is still starting, hung, or older than this CLI; wait for it or restart it (several processes need DATABASE_URL)`);
  }
}
