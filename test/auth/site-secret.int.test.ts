/**
 * Where the JWT secret comes from without JWT_SECRET: the database with DATABASE_URL (one row,
 * whichever of several starting processes asks first), DATA_DIR/jwt-secret on the embedded
 * database; JWT_SECRET wins over both. The processes themselves: test/e2e/scale-out.e2e.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { databaseJwtSecret, withSiteJwtSecret } from '../../src/auth/site-secret.ts';
import { describeConfig, loadConfig } from '../../src/config.ts';
import { openDatabase, type Database } from '../../src/db/open-database.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { openTestDatabase } from '../support/test-app.ts';

const logger = createLogger('silent');

describe('the site JWT secret', () => {
  let test: Awaited<ReturnType<typeof openTestDatabase>>;
  let dataDir: string;

  beforeAll(async () => {
    test = await openTestDatabase();
  });
  afterAll(async () => {
    await test.close();
  });
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ot-secret-'));
    await test.db.prisma.siteSecret.deleteMany();
    return () => rmSync(dataDir, { recursive: true, force: true });
  });

  it('is created once when several connections ask at the same time, and read back by all', async () => {
    // On PostgreSQL each caller has its own connection, as processes starting together do.
    const extra: Database[] = test.url ? await Promise.all(Array.from({ length: 5 }, () => openDatabase({ kind: 'postgres', url: test.url as string }))) : [];
    try {
      const callers = [test.db, ...extra, test.db];
      const got = await Promise.all(callers.map((db, i) => databaseJwtSecret(db, () => `candidate-${i}-${'x'.repeat(40)}`)));
      const secrets = new Set(got.map((g) => g.secret));
      expect(secrets.size).toBe(1);
      expect(got.filter((g) => g.created)).toHaveLength(1);
      expect(await test.db.prisma.siteSecret.findMany()).toEqual([expect.objectContaining({ name: 'jwt', value: [...secrets][0] })]);
      // Later starts read the same one.
      expect((await databaseJwtSecret(test.db, () => 'another-candidate-another-candidate-0')).secret).toBe([...secrets][0]);
    } finally {
      await Promise.all(extra.map((db) => db.close()));
    }
  });

  it('comes from the database with DATABASE_URL: no file written, a secret of an earlier version kept', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
    expect(config.auth).toMatchObject({ jwtSecretSource: 'database', jwtSecret: '' });
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
    expect(describeConfig(config)).toMatch(/"jwtSecret": "<redacted: generated once and kept in the database \(table site_secrets\), shared by every process on DATABASE_URL>"/);

    // A process of an earlier version kept its secret in DATA_DIR: the database adopts it, so nobody is signed out by the upgrade.
    const legacy = 'legacy-secret-legacy-secret-legacy-secret-0123';
    writeFileSync(join(dataDir, 'jwt-secret'), `${legacy}\n`);
    const resolved = await withSiteJwtSecret(config, test.db, logger);
    expect(resolved.auth.jwtSecret).toBe(legacy);
    expect(config.auth.jwtSecret).toBe(''); // the loaded config is not changed

    // Another process with another (or no) file gets the database's.
    const otherDir = mkdtempSync(join(tmpdir(), 'ot-secret-'));
    try {
      const other = await withSiteJwtSecret(loadConfig({ DATA_DIR: otherDir, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' }), test.db, logger);
      expect(other.auth.jwtSecret).toBe(legacy);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('is JWT_SECRET when set, whatever the database holds', async () => {
    await databaseJwtSecret(test.db, () => 'the-database-secret-the-database-secret-0');
    const secret = 'the-operator-secret-the-operator-secret-0123';
    const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', JWT_SECRET: secret });
    expect(config.auth).toMatchObject({ jwtSecretSource: 'env', jwtSecret: secret });
    expect((await withSiteJwtSecret(config, test.db, logger)).auth.jwtSecret).toBe(secret);
    expect(describeConfig(config)).toMatch(/"jwtSecret": "<redacted: JWT_SECRET>"/);
    expect(describeConfig(config)).not.toContain(secret);
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
  });

  it('is the file DATA_DIR/jwt-secret on the embedded database, created once (0600) and kept', async () => {
    const first = loadConfig({ DATA_DIR: dataDir });
    const file = join(dataDir, 'jwt-secret');
    expect(first.auth.jwtSecretSource).toBe('file');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.auth.jwtSecret);
    expect(Buffer.byteLength(first.auth.jwtSecret)).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig({ DATA_DIR: dataDir }).auth.jwtSecret).toBe(first.auth.jwtSecret);
    // The app does not move it to the database.
    expect((await withSiteJwtSecret(first, test.db, logger)).auth.jwtSecret).toBe(first.auth.jwtSecret);
    expect(await test.db.prisma.siteSecret.count()).toBe(0);
    expect(describeConfig(first)).toContain(`"jwtSecret": "<redacted: generated once and kept in ${file}>"`);
    expect(describeConfig(first)).not.toContain(first.auth.jwtSecret);
  });
});
