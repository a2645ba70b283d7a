/**
 * Where the JWT secret comes from when `JWT_SECRET` is not set (config.ts says which source
 * applies; `--print-config` names it).
 *
 * - PostgreSQL (`DATABASE_URL`): the database, table `site_secrets`, row `jwt`. Every process on
 *   one `DATABASE_URL` signs and accepts the same tokens with no shared file or variable. Each
 *   starting process inserts its candidate unless the row exists (`ON CONFLICT DO NOTHING`) and
 *   then reads the row back, so processes starting together all end with the one row that was
 *   inserted first. The candidate is the secret a process kept in `DATA_DIR/jwt-secret` before
 *   secrets moved to the database (an upgraded site keeps its sessions), else a random one.
 * - The embedded database (one process): the file `DATA_DIR/jwt-secret` (0600), created on the
 *   first start, next to the database it belongs to.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Database } from '../db/open-database.ts';
import type { Logger } from '../shared/logger.ts';

const JWT_ROW = 'jwt';
const FILE = 'jwt-secret';

export function randomSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** The secret the file holds (trimmed), or null when there is no file. */
function readSecretFile(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

/** The secret kept in `dataDir/jwt-secret`, created (0600) on first use. */
export function fileJwtSecret(dataDir: string): string {
  const file = join(dataDir, FILE);
  const kept = readSecretFile(file);
  if (kept !== null) return kept;
  mkdirSync(dataDir, { recursive: true });
  const secret = randomSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** The site's secret kept in the database, created by whichever process asks first. */
export async function databaseJwtSecret(db: Database, candidate: () => string): Promise<{ secret: string; created: boolean }> {
  const value = candidate();
  const { count } = await db.prisma.siteSecret.createMany({ data: [{ name: JWT_ROW, value }], skipDuplicates: true });
  const row = await db.prisma.siteSecret.findUniqueOrThrow({ where: { name: JWT_ROW } });
  return { secret: row.value, created: count === 1 };
}

/** `config` with its JWT secret read from the database when that is its source (see above); otherwise `config` itself. */
export async function withSiteJwtSecret(config: Config, db: Database, logger: Logger): Promise<Config> {
  if (config.auth.jwtSecretSource !== 'database') return config;
  const { secret, created } = await databaseJwtSecret(db, () => {
    const kept = readSecretFile(join(config.dataDir, FILE));
    return kept !== null && Buffer.byteLength(kept) >= 32 ? kept : randomSecret();
  });
  if (created) logger.info('session tokens: generated the site secret and stored it in the database (table site_secrets), shared by every process');
  return { ...config, auth: { ...config.auth, jwtSecret: secret } };
}
