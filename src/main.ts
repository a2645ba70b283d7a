/**
 * `npm start`: one server on one port serving the tracker, GraphQL, the compat APIs and the
 * operator endpoints. Embedded defaults: PGlite under ./data and in-memory swarms.
 * `npm start -- --print-config` prints the effective configuration (secrets redacted).
 */
import { createApp } from './app.ts';
import { loadConfigOrExit, openMigratedDatabase } from './boot.ts';
import { describeConfig } from './config.ts';
import { createLogger } from './shared/logger.ts';

const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const env = { ...process.env };
if (portArg >= 0 && args[portArg + 1]) env.PORT = args[portArg + 1];
const config = loadConfigOrExit(env);
if (args.includes('--print-config')) {
  process.stdout.write(`${describeConfig(config)}\n`);
  process.exit(0);
}
const logger = createLogger(config.logLevel);
const db = await openMigratedDatabase(config, logger);
const app = await createApp(config, db, { logger });
const address = await app.listen();
logger.info({ address: `${address.address}:${address.port}`, database: db.kind, users: app.ctx.users.size, torrents: app.ctx.torrents.size }, `OpenTracker listening on port ${address.port}`);

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, 30_000);
  force.unref();
  try {
    await app.stop();
    await db.close();
    logger.info('stopped cleanly');
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    await db.close().catch(() => undefined);
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
