import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase, type Database } from '../../src/db/open-database.ts';
import { aPeerId, aTorrent, aUser, type TestTorrent, type TestUser } from '../support/factories.ts';
import { runServerToExit, startServerProcess } from '../support/server-process.ts';
import { freshPostgres, onPostgres } from '../support/test-app.ts';
import { announce, failureOf } from '../support/tracker-client.ts';

describe('the server process', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let pgdb: Awaited<ReturnType<typeof freshPostgres>>;
  let user: TestUser;
  let leecher: TestUser;
  let torrent: TestTorrent;

  const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
    const db = await openDatabase(pgdb ? { kind: 'postgres', url: pgdb.url } : { kind: 'pglite', dataDir: join(dataDir, 'pglite') });
    try {
      await migrate(db);
      return await fn(db);
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ot-e2e-'));
    pgdb = await freshPostgres();
    env = { DATA_DIR: dataDir, ACCOUNTING_FLUSH_INTERVAL_MS: '600000', ...(pgdb ? { DATABASE_URL: pgdb.url } : { DATABASE_URL: '' }) };
    await withDb(async (db) => {
      user = await aUser(db);
      leecher = await aUser(db);
      torrent = await aTorrent(db, user.id);
    });
  });
  afterAll(async () => {
    await pgdb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('flushes credit on SIGTERM, exits 0, and keeps it across a restart', async () => {
    const server = await startServerProcess(env);
    const peerId = aPeerId();
    const base = { passkey: user.passkey, infoHash: torrent.hashBytes, peerId, left: 0 };
    // Someone to upload to: upload with no other leecher in the swarm is not credited.
    expect(failureOf(await announce(server.url, { passkey: leecher.passkey, infoHash: torrent.hashBytes, peerId: aPeerId(), left: 10, event: 'started' }))).toBeUndefined();
    expect(failureOf(await announce(server.url, { ...base, event: 'started' }))).toBeUndefined();
    expect(failureOf(await announce(server.url, { ...base, uploaded: 123_456 }))).toBeUndefined();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/accounting flushed/);
    const again = await startServerProcess(env);
    expect(failureOf(await announce(again.url, { ...base, uploaded: 123_456 }))).toBeUndefined();
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
    const row = await withDb((db) => db.prisma.user.findUniqueOrThrow({ where: { id: user.id } }));
    expect(Number(row.uploaded)).toBe(123_456);
  });

  it.skipIf(onPostgres)('refuses a second server on the same embedded data directory, and recovers after a kill -9', async () => {
    const first = await startServerProcess(env);
    const second = await runServerToExit(env);
    expect(second.code).toBe(3);
    expect(second.output).toMatch(/in use by process \d+/);
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await startServerProcess(env);
    expect(failureOf(await announce(third.url, { passkey: user.passkey, infoHash: torrent.hashBytes, peerId: aPeerId() }))).toBeUndefined();
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('stops at start with one line per bad variable', async () => {
    const r = await runServerToExit({ ...env, TRACKER_ANNOUNCE_INTERVAL: 'soon', TRACKER_TYPO: '1', JWT_SECRET: 'short' });
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/TRACKER_TYPO: unknown variable/);
    expect(r.output).toMatch(/TRACKER_ANNOUNCE_INTERVAL: /);
    expect(r.output).toMatch(/JWT_SECRET: must be at least 32 characters/);
  });
});
