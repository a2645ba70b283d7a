/**
 * `npm start`: one server on one port serving the tracker, GraphQL, the compat APIs and the
 * operator endpoints. Embedded defaults: PGlite under ./data and in-memory swarms.
 * `npm start -- --print-config` prints the effective configuration (secrets redacted).
 * With WORKERS=N (needs DATABASE_URL and REDIS_URL) the process forks N workers sharing the
 * port (node:cluster); swarms, credit, limits and events are shared through Redis.
 */
import cluster from 'node:cluster';
import { createApp } from './app.ts';
import { loadConfigOrExit, openMigratedDatabase } from './boot.ts';
import { describeConfig, type Config } from './config.ts';
import { formatAddress, type Listening } from './server/listen.ts';
import { shareWithCli } from './cli/socket.ts';
import { setupLink } from './setup/first-admin.ts';
import { createLogger, type Logger } from './shared/logger.ts';

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
if (config.workers > 1 && cluster.isPrimary) runPrimary(config.workers, env, logger);
else await runServer(config, logger);

/** Forks the workers, replaces any that dies, and passes stop signals on. */
function runPrimary(workers: number, workerEnv: NodeJS.ProcessEnv, log: Logger): void {
  log.info({ workers }, 'starting workers');
  let stopping = false;
  const fork = () => cluster.fork(workerEnv);
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    setTimeout(() => process.exit(1), 35_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function runServer(cfg: Config, log: Logger): Promise<void> {
  const db = await openMigratedDatabase(cfg, log);
  const app = await createApp(cfg, db, { logger: log });
  // Before anything that awaits: a signal from here on stops the server gracefully.
  let shuttingDown = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      await app.stop();
      await db.close();
      log.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      await db.close().catch(() => undefined);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const cliSocket = await shareWithCli(db, cfg.dataDir, app.ctx.events, log);
  if (cliSocket) log.info({ socket: cliSocket }, '`npm run cli` commands run on this server\'s database while it runs');
  let address: Listening;
  try {
    address = await app.listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${cfg.host ?? '[::]'}:${cfg.port}`;
    if (code === 'EADDRINUSE') log.fatal(`cannot listen on ${where}: the port is in use by another process (another OpenTracker?); stop it or set PORT`);
    else if (code === 'EACCES') log.fatal(`cannot listen on ${where}: not permitted (ports below 1024 need privileges); set PORT`);
    else log.fatal({ err }, `cannot listen on ${where}`);
    await app.stop();
    await db.close();
    process.exit(1);
  }
  const families = address.dualStack ? 'IPv4 and IPv6' : address.family;
  log.info({ address: formatAddress(address), families, database: db.kind, swarm: cfg.redisUrl ? 'redis' : 'memory', users: app.ctx.users.size, torrents: app.ctx.torrents.size }, `OpenTracker listening on port ${address.port} (${families})`);
  await setupLink(db.prisma, cfg).then(
    (setup) => {
      if (setup.kind === 'issued') log.info(`This site has no account yet. Create the first admin at ${setup.link} (the link works once; it is also in ${setup.file})`);
      if (setup.kind === 'elsewhere') log.info(`This site has no account yet. Another process issued the first admin's setup link at ${setup.since.toISOString()}: it is in that process's log and DATA_DIR/setup-link; \`npm run cli -- setup-link\` prints a new one`);
    },
    (err: unknown) => {
      if (!shuttingDown) log.error({ err }, 'could not prepare the first admin\'s setup link (`npm run cli -- setup-link` makes one)');
    },
  );
}
