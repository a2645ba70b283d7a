/**
 * Where `npm run cli` finds a running embedded server: the unix socket `DATA_DIR/run/cli.sock`,
 * on which the server shares its database (src/db/pglite-socket.ts). Only the owner may use
 * it: the directory is the owner's and 0700, the socket 0600, and the CLI checks both before it
 * connects (another local user must not be able to plant a socket there and read the commands
 * sent to it, passwords included).
 */
import { chmod, lstat, mkdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Database } from '../db/open-database.ts';
import type { EventBus } from '../shared/events.ts';
import type { Logger } from '../shared/logger.ts';

/** Longest unix socket path Linux takes (sun_path is 108 bytes with its terminating NUL). */
const SOCKET_PATH_MAX = 107;

export function cliSocketPath(dataDir: string): string {
  return join(dataDir, 'run', 'cli.sock');
}

export class CliSocketError extends Error {
  override name = 'CliSocketError';
}

const uid = () => process.getuid?.() ?? -1;

/** Why `st` (of `path`) is not the owner's private directory, or null when it is. */
function notPrivate(path: string, st: Stats): string | null {
  if (st.isSymbolicLink() || !st.isDirectory()) return `${path} is not a directory`;
  if (uid() >= 0 && st.uid !== uid()) return `${path} belongs to user ${st.uid}, not to you (${uid()})`;
  if ((st.mode & 0o077) !== 0) return `${path} is open to other users (mode ${(st.mode & 0o777).toString(8)}; it must be 700)`;
  return null;
}

/**
 * Server side: shares `db` on DATA_DIR/run/cli.sock when it can be shared (embedded PGlite on
 * disk); after a command that changed rows, `events` tells the server's caches. Returns the socket path, or null when CLI commands must open the database themselves.
 */
export async function shareWithCli(db: Database, dataDir: string, events: EventBus, logger: Logger): Promise<string | null> {
  if (!db.share) return null;
  const path = cliSocketPath(dataDir);
  if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
    logger.warn({ path }, `DATA_DIR is too long a path for a unix socket (${SOCKET_PATH_MAX} bytes at most): CLI commands cannot reach this server while it runs; use a shorter DATA_DIR`);
    return null;
  }
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (st.isSymbolicLink() || !st.isDirectory() || (uid() >= 0 && st.uid !== uid())) throw new CliSocketError(`cannot share the database with the CLI: ${notPrivate(dir, st) ?? dir}; remove it`);
  await chmod(dir, 0o700);
  // A command that changed rows may have changed any (users, torrents, categories, an import's
  // secrets): the caches reload whole, as after a site import. Commands need not say what they did.
  await db.share(path, () => {
    events.publish({ type: 'caches.reload' });
    events.publish({ type: 'categories.changed' });
  });
  return path;
}

/**
 * CLI side: the socket to connect to, or null when there is none (no server shares this data
 * directory). Throws CliSocketError when what is there must not be trusted.
 */
export async function findCliSocket(dataDir: string): Promise<string | null> {
  const path = cliSocketPath(dataDir);
  const dir = dirname(path);
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const problem = notPrivate(dir, await lstat(dir)) ?? (!st.isSocket() ? `${path} is not a socket` : uid() >= 0 && st.uid !== uid() ? `${path} belongs to user ${st.uid}, not to you` : null);
  if (problem) throw new CliSocketError(`refusing the server socket: ${problem}`);
  return path;
}
