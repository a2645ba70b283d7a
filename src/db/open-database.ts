/**
 * Opens the database for the configured backend: PGlite (Postgres in WASM, in-process, under
 * DATA_DIR or in memory for tests) or PostgreSQL (DATABASE_URL). Both run the same Prisma
 * client through a driver adapter, and nothing else in the program branches on the backend.
 *
 * PGlite is single-process: a lock file in its directory names the owning PID, so a second
 * server on the same directory is refused with a clear message, and a stale lock left by a
 * killed process is recovered from (PGlite otherwise aborts on the stale postmaster.pid).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.ts';
import { instrumentAdapter, type QueryCounter } from './adapter-shim.ts';
import { PgliteConnection, type ConnectionHandle, type PgliteThread } from './pglite-connection.ts';
import { servePglite, SocketTransport, type PgliteSocketServer } from './pglite-socket.ts';

/**
 * `thread`: where PGlite runs; `worker` (the default) keeps its WebAssembly off the event loop
 * (src/db/pglite-connection.ts), `main` is for debugging (PGLITE_THREAD).
 */
export type DatabaseConfig =
  /** `from`: start from a dump (Database.dump) instead of an empty cluster. */
  | { kind: 'pglite'; dataDir: string | null; thread?: PgliteThread; from?: Uint8Array<ArrayBuffer> }
  | { kind: 'postgres'; url: string };

/** Runs one SQL script (several statements) outside Prisma: migrations and tests use it. */
export type ExecScript = (sql: string) => Promise<void>;
/** Runs one parameterised query outside Prisma and returns its rows. */
export type RawQuery = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export interface Session {
  exec: ExecScript;
  query: RawQuery;
}

export interface Database extends Session {
  kind: 'pglite' | 'postgres';
  prisma: PrismaClient;
  /** Statement counter for tests and the jsonapi debug envelope. */
  queries: QueryCounter;
  /** Runs `fn` on one connection (session-level locks and transactions need it). */
  withSession<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  /**
   * Embedded PGlite only: serves this connection on a unix socket at `socketPath` to the
   * owner's other processes (the CLI, pglite-socket.ts) until close; `afterWrites` runs when a
   * client that changed rows goes away. The caller secures the directory.
   */
  share?(socketPath: string, afterWrites: () => void): Promise<void>;
  /** Embedded PGlite only: the data directory as a tarball, to open a copy from (DatabaseConfig `from`). */
  dump?(): Promise<Uint8Array<ArrayBuffer>>;
  close(): Promise<void>;
}

export class DatabaseLockedError extends Error {
  constructor(
    dir: string,
    readonly pid: number,
  ) {
    super(`the data directory ${dir} is in use by process ${pid}; stop it first, or point DATA_DIR elsewhere (several processes need DATABASE_URL)`);
    this.name = 'DatabaseLockedError';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'opentracker.lock');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) throw new DatabaseLockedError(dir, pid);
    // The owner died without closing PGlite: its postmaster.pid would make PGlite abort.
    rmSync(join(dir, 'postmaster.pid'), { force: true });
  }
  writeFileSync(lock, `${process.pid}\n`);
  return () => rmSync(lock, { force: true });
}

/** A Database on a PGlite connection: the local one (openPglite) or a server's (connectPgliteSocket). */
function pgliteDatabase(pg: PgliteConnection, close: () => Promise<void>, share?: Database['share']): Database {
  const { factory, counter } = instrumentAdapter(new PrismaPGlite(pg.asPglite()), { convertBytes: true });
  const prisma = new PrismaClient({ adapter: factory });
  let closed = false;
  const sessionOf = (h: ConnectionHandle): Session => ({
    exec: async (sql) => {
      await h.exec(sql);
    },
    query: async <T>(sql: string, params: unknown[] = []) => (await h.query<T>(sql, params)).rows,
  });
  return {
    kind: 'pglite',
    prisma,
    queries: counter,
    ...sessionOf(pg),
    // The session holds PGlite's one connection: other statements wait until fn ends.
    withSession: (fn) => pg.exclusive((h) => fn(sessionOf(h))),
    ...(share ? { share } : {}),
    ...(pg.thread === 'socket' ? {} : { dump: () => pg.dump() }),
    close: async () => {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await close();
    },
  };
}

async function openPglite(dataDir: string | null, thread: PgliteThread = 'worker', from?: Uint8Array<ArrayBuffer>): Promise<Database> {
  const release = dataDir ? takeLock(dataDir) : () => undefined;
  let pg: PgliteConnection;
  try {
    pg = await PgliteConnection.open(dataDir, thread, from);
  } catch (err) {
    release();
    throw err;
  }
  let shared: PgliteSocketServer | null = null;
  const share = async (socketPath: string, afterWrites: () => void) => {
    if (shared) throw new Error(`the database is already shared on ${shared.path}`);
    shared = await servePglite(pg, socketPath, afterWrites);
  };
  return pgliteDatabase(
    pg,
    async () => {
      await shared?.close();
      await pg.close();
      release();
    },
    share,
  );
}

/**
 * The embedded database of the server process listening on `socketPath` (Database.share):
 * statements run on the server's connection. Closing ends this connection only.
 */
export async function connectPgliteSocket(socketPath: string): Promise<Database & { serverPid: number }> {
  const transport = await SocketTransport.connect(socketPath);
  // Closing ends the socket at once, even inside a session (a CLI giving up mid-command):
  // the server rolls back what was left open.
  return { ...pgliteDatabase(PgliteConnection.remote(transport), () => transport.close()), serverPid: transport.serverPid };
}

async function openPostgres(url: string): Promise<Database> {
  const { default: pg } = await import('pg');
  // One pool for Prisma and the raw session API. An idle connection the server ends (restart,
  // failover, a dropped database) is logged by the pool's owner, never an unhandled 'error'.
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', (err) => {
    process.emitWarning(`PostgreSQL pool: idle connection lost (${err.message})`, 'DatabaseWarning');
  });
  const { factory, counter } = instrumentAdapter(new PrismaPg(pool), { convertBytes: false });
  const prisma = new PrismaClient({ adapter: factory });
  let closed = false;
  return {
    kind: 'postgres',
    prisma,
    queries: counter,
    exec: async (sql) => {
      await pool.query(sql);
    },
    query: async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[],
    withSession: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn({
          exec: async (sql) => {
            await client.query(sql);
          },
          query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        });
      } finally {
        client.release();
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

export function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.kind === 'postgres' ? openPostgres(config.url) : openPglite(config.dataDir, config.thread, config.from);
}
