/**
 * Server processes on different ports share one PostgreSQL database and one Redis: the
 * deployment of issues 6 and 13. They are started with those two URLs and nothing else they
 * share (no JWT_SECRET, each its own DATA_DIR). Runs only when DATABASE_URL and REDIS_URL are
 * set (.ci/run sets them).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { signSession } from '../../src/auth/jwt.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase, type Database } from '../../src/db/open-database.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createRedisEventBus } from '../../src/shared/redis-events.ts';
import { aPeerId, aTorrent, aUser, encodeBytes } from '../support/factories.ts';
import { destroyed, started, trackerClient, watch } from '../support/fake-webrtc.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { dropRedisPrefix, freshPostgres, onPostgres } from '../support/test-app.ts';
import { announce, compactPeers, failureOf, trackerGet } from '../support/tracker-client.ts';

vi.mock('webrtc-polyfill', () => import('../support/fake-webrtc.ts'));

const base = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;

/** A GraphQL request over HTTP; `token` as a Bearer token. */
async function gqlPost(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<{ data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: string } }> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as never;
}

/** The user id `token` signs in as on the process at `url`, or the error code. */
async function whoAmI(url: string, token: string): Promise<string> {
  const r = await gqlPost(url, '{ me { id } }', {}, token);
  return (r.data?.me as { id: string } | undefined)?.id ?? String(r.errors?.[0]?.extensions?.code);
}

// Runs in the vitest `postgres` project only (once per CI run).
describe.skipIf(!onPostgres || !base || !redisUrl)('several server processes on PostgreSQL and Redis', () => {
  const prefix = `ot-scale-${randomBytes(4).toString('hex')}`;
  let scratch: Awaited<ReturnType<typeof freshPostgres>>;
  let db: Database;
  let env: Record<string, string>;
  const running: ServerProcess[] = [];
  const dataDirs: string[] = [];

  /** A process on the shared URLs with a data directory of its own. */
  const start = async (extra: Record<string, string> = {}) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ot-scale-'));
    dataDirs.push(dataDir);
    const p = await startServerProcess({ ...env, DATA_DIR: dataDir, ...extra });
    running.push(p);
    return p;
  };

  beforeAll(async () => {
    scratch = await freshPostgres();
    if (!scratch) throw new Error('the postgres project provides DATABASE_URL');
    db = await openDatabase({ kind: 'postgres', url: scratch.url });
    await migrate(db);
    // JWT_SECRET: '' unsets one the developer's shell may have.
    env = { DATABASE_URL: scratch.url, REDIS_URL: redisUrl as string, REDIS_PREFIX: prefix, ACCOUNTING_FLUSH_INTERVAL_MS: '600000', TRACKER_ANNOUNCE_RATE_LIMIT: '1000', JWT_SECRET: '' };
  });

  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await db?.close();
    await scratch?.drop();
    await dropRedisPrefix(redisUrl as string, prefix);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('signs a user in on one process and accepts the token on the others: one secret, made by whichever started first', { timeout: 180_000 }, async () => {
    // Three processes without JWT_SECRET start together; a fourth has its own JWT_SECRET.
    const own = 'an-operator-chosen-secret-for-this-process-only-0123';
    const [pinned, ...procs] = await Promise.all([start({ JWT_SECRET: own }), start(), start(), start()]);
    const password = 'correct horse battery';
    const u = await aUser(db);
    await db.prisma.user.update({ where: { id: u.id }, data: { passwordHash: await hashPassword(password) } });
    const login = await gqlPost(procs[0]?.url, 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }', { u: u.username, p: password });
    const token = (login.data?.login as { token: string } | undefined)?.token as string;
    expect(token).toMatch(/^ey/);
    for (const p of procs) expect(await whoAmI(p.url, token)).toBe(String(u.id));
    const rows = await db.prisma.siteSecret.findMany();
    expect(rows.map((r) => r.name)).toEqual(['jwt']);
    expect(procs.filter((p) => /generated the site secret/.test(p.output()))).toHaveLength(1);

    // JWT_SECRET still wins: that process takes only its own tokens.
    expect(await whoAmI(pinned.url, token)).toBe('UNAUTHORIZED');
    expect(await whoAmI(pinned.url, signSession({ jwtSecret: own, jwtTtlSeconds: 600 }, u.id, 0).token)).toBe(String(u.id));
    expect(await whoAmI(procs[1]?.url, signSession({ jwtSecret: rows[0]?.value as string, jwtTtlSeconds: 600 }, u.id, 0).token)).toBe(String(u.id));
    for (const p of [...procs, pinned]) p.child.kill('SIGTERM');
    await Promise.all([...procs, pinned].map((p) => p.exited));
  });

  it('connects WebTorrent clients on different processes: the offer goes to the other process over Redis and the answer comes back', async () => {
    const [p1, p2] = await Promise.all([start(), start()]);
    const seeder = await aUser(db);
    const leecher = await aUser(db);
    const tor = await aTorrent(db, seeder.id);
    const wsUrl = (p: ServerProcess, passkey: string) => `${p.url.replace('http', 'ws')}/announce?passkey=${passkey}`;
    const a = await trackerClient(tor.infoHash, wsUrl(p1, seeder.passkey), 0);
    const b = await trackerClient(tor.infoHash, wsUrl(p2, leecher.passkey), 100);
    const seenA = watch(a);
    const seenB = watch(b);
    try {
      expect(await started(a)).toMatchObject({ complete: 1, incomplete: 0 });
      expect(await started(b)).toMatchObject({ complete: 1, incomplete: 1 });
      // b's offer (on p2) reached a (on p1), and a's answer came back to b.
      await vi.waitFor(() => expect(seenA.peers.length).toBe(1), { timeout: 10_000 });
      await vi.waitFor(() => expect(seenB.peers.length).toBe(1), { timeout: 10_000 });
      expect(seenA.peers[0]?._pc.remoteDescription?.sdp).toContain('a=fake-offer');
      expect(seenB.peers[0]?._pc.remoteDescription?.sdp).toContain('a=fake-answer');
      expect([...seenA.warnings, ...seenB.warnings]).toEqual([]);
    } finally {
      for (const p of [...seenA.peers, ...seenB.peers]) p.destroy();
      await Promise.all([destroyed(a), destroyed(b)]);
    }
    for (const p of [p1, p2]) p.child.kill('SIGTERM');
    expect(await Promise.all([p1.exited, p2.exited])).toEqual([0, 0]);
  });

  it('returns a peer announced on one process to a peer announcing on the other', async () => {
    const [p1, p2] = await Promise.all([start(), start()]);
    const seeder = await aUser(db);
    const leecher = await aUser(db);
    const tor = await aTorrent(db, seeder.id);
    expect(failureOf(await announce(p1.url, { passkey: seeder.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), port: 51413, left: 0, event: 'started' }))).toBeUndefined();
    const got = await announce(p2.url, { passkey: leecher.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), port: 51414, left: 9, event: 'started' });
    expect(got.body).toMatchObject({ complete: 1, incomplete: 1 });
    expect(compactPeers(got.body.peers as Uint8Array)).toEqual(['127.0.0.1:51413']);
    for (const p of [p1, p2]) p.child.kill('SIGTERM');
    await Promise.all([p1.exited, p2.exited]);
  });

  it('counts a completion announced on one process in the very next scrape and announce on the other, once per user', async () => {
    const [p1, p2] = await Promise.all([start(), start()]);
    const owner = await aUser(db);
    const leecher = await aUser(db);
    const tor = await aTorrent(db, owner.id);
    const scrape = async (url: string) => {
      const r = await trackerGet(`${url}/scrape?passkey=${owner.passkey}&info_hash=${encodeBytes(tor.hashBytes)}`);
      return (Object.values(r.body.files as Record<string, Record<string, number>>)[0] as Record<string, number>).downloaded;
    };
    const peerId = aPeerId();
    expect(failureOf(await announce(p1.url, { passkey: leecher.passkey, infoHash: tor.hashBytes, peerId, left: 9, event: 'started' }))).toBeUndefined();
    // The swarm's first announce has its count read from the database, off the announce path.
    await new Promise((r) => setTimeout(r, 500));
    const done = await announce(p1.url, { passkey: leecher.passkey, infoHash: tor.hashBytes, peerId, left: 0, downloaded: 9, event: 'completed' });
    expect(done.body.downloaded).toBe(1);
    // No flush runs here (ACCOUNTING_FLUSH_INTERVAL_MS is ten minutes): the count lives in Redis.
    expect(await scrape(p2.url)).toBe(1);
    expect((await announce(p2.url, { passkey: owner.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0, event: 'started' })).body.downloaded).toBe(1);
    // The same user completing again through the other process: still one.
    const again = aPeerId();
    await announce(p2.url, { passkey: leecher.passkey, infoHash: tor.hashBytes, peerId: again, left: 9, event: 'started' });
    expect((await announce(p2.url, { passkey: leecher.passkey, infoHash: tor.hashBytes, peerId: again, left: 0, downloaded: 9, event: 'completed' })).body.downloaded).toBe(1);
    expect(await scrape(p1.url)).toBe(1);
    for (const p of [p1, p2]) p.child.kill('SIGTERM');
    await Promise.all([p1.exited, p2.exited]);
    // The graceful stops flushed it: the database agrees.
    expect((await db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id } })).timesCompleted).toBe(1);
  });

  it('delivers swarmStats to a subscriber on one process for announces on the other', async () => {
    const [p1, p2] = await Promise.all([start(), start()]);
    const u = await aUser(db);
    const tor = await aTorrent(db, u.id);
    const secret = (await db.prisma.siteSecret.findUniqueOrThrow({ where: { name: 'jwt' } })).value;
    const token = signSession({ jwtSecret: secret, jwtTtlSeconds: 600 }, u.id, 0).token;
    const client = createClient({ url: `${p2.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0 });
    const seen: Array<{ seeders: number; leechers: number }> = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ swarmStats: { infoHash: string; seeders: number; leechers: number } }>(
        { query: `subscription { swarmStats(infoHash: "${tor.infoHash}") { infoHash seeders leechers } }` },
        {
          next: (r) => {
            if (r.data) seen.push(r.data.swarmStats);
            if (r.data?.swarmStats.seeders === 1) resolve();
          },
          error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
          complete: () => undefined,
        },
      );
    });
    // The first event is the current (empty) swarm; then an announce lands on the other process.
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 1200)); // the publisher's view of remote interest
    expect(failureOf(await announce(p1.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0, event: 'started' }))).toBeUndefined();
    await done;
    expect(seen.at(-1)).toMatchObject({ infoHash: tor.infoHash, seeders: 1, leechers: 0 });
    await client.dispose();
    for (const p of [p1, p2]) p.child.kill('SIGTERM');
    await Promise.all([p1.exited, p2.exited]);
  });

  it('holds the per-passkey announce limit across both processes', async () => {
    const [p1, p2] = await Promise.all([start({ TRACKER_ANNOUNCE_RATE_LIMIT: '10' }), start({ TRACKER_ANNOUNCE_RATE_LIMIT: '10' })]);
    const u = await aUser(db);
    const tor = await aTorrent(db, u.id);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await announce(i % 2 ? p2.url : p1.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 })).status);
    expect(statuses.slice(0, 10)).toEqual(new Array(10).fill(200));
    expect(statuses.slice(10)).toEqual([429, 429]);
    for (const p of [p1, p2]) p.child.kill('SIGTERM');
    await Promise.all([p1.exited, p2.exited]);
  });

  it('applies a ban made elsewhere on every process within a second', async () => {
    const [p1, p2] = await Promise.all([start(), start()]);
    const u = await aUser(db);
    const tor = await aTorrent(db, u.id);
    for (const p of [p1, p2]) expect(failureOf(await announce(p.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 }))).toBeUndefined();
    const bus = createRedisEventBus(redisUrl as string, prefix, createLogger('silent'));
    await bus.ready;
    await db.prisma.user.update({ where: { id: u.id }, data: { status: 'BANNED' } });
    bus.publish({ type: 'user.changed', userId: u.id });
    await bus.close();
    const deadline = Date.now() + 1000;
    for (const p of [p1, p2]) {
      let reason: string | undefined;
      do reason = failureOf(await announce(p.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 }));
      while (!reason && Date.now() < deadline);
      expect(reason).toMatch(/banned/);
    }
    for (const p of [p1, p2]) p.child.kill('SIGTERM');
    await Promise.all([p1.exited, p2.exited]);
  });

  it('loses no credit when a process is killed with SIGKILL in the middle of announces', async () => {
    const [p1, p2] = await Promise.all([start(), start()]);
    const u = await aUser(db);
    const tor = await aTorrent(db, u.id);
    const peerId = aPeerId();
    const session = { passkey: u.passkey, infoHash: tor.hashBytes, peerId, left: 0 };
    // Someone to upload to: upload with no other leecher in the swarm is not credited.
    await announce(p2.url, { passkey: (await aUser(db)).passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 10, event: 'started' });
    await announce(p1.url, { ...session, event: 'started' });
    let uploaded = 0;
    let killed = false;
    for (let i = 1; i <= 40; i++) {
      uploaded = i * 1_000_000;
      if (i === 20) {
        p1.child.kill('SIGKILL');
        killed = true;
      }
      // While p1 is alive half the announces go to it; after the kill the client retries on p2.
      const target = !killed && i % 2 ? p1 : p2;
      try {
        await announce(target.url, { ...session, uploaded });
      } catch {
        await announce(p2.url, { ...session, uploaded });
      }
    }
    await p1.exited;
    p2.child.kill('SIGTERM'); // its final flush writes everything Redis holds
    expect(await p2.exited).toBe(0);
    const row = await db.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
    expect(Number(row.uploaded)).toBe(uploaded);
  });
});
