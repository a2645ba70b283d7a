/**
 * Times completed are live (API.md §1): the very next announce or scrape, by anyone, over HTTP,
 * WebSocket or GraphQL, shows a completion, without waiting for the accounting flush; once per
 * user and torrent, as the flush records it; and a restarted server shows the persisted count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signSession } from '../../../src/auth/jwt.ts';
import { createApp, type App } from '../../../src/app.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { aPeerId, aTorrent, aUser, encodeBytes, type TestTorrent, type TestUser } from '../../support/factories.ts';
import { startTestApp, swarmBackends, type TestApp } from '../../support/test-app.ts';
import { announce, failureOf, trackerGet } from '../../support/tracker-client.ts';

describe.each(swarmBackends)('live completion counts (%s swarm store)', (backend) => {
  let t: TestApp;
  let owner: TestUser;
  let tor: TestTorrent;
  let restarted: App | null = null;

  beforeAll(async () => {
    // No timers: nothing is flushed unless a test says so.
    t = await startTestApp({}, { timers: false, swarmBackend: backend });
    owner = await aUser(t.db);
    tor = await aTorrent(t.db, owner.id);
    await t.app.ctx.torrents.reload(tor.id);
  });
  afterAll(async () => {
    await restarted?.stop();
    await t.stop();
  });

  const scrape = async (base: string, passkey: string) => {
    const r = await trackerGet(`${base}/scrape?passkey=${passkey}&info_hash=${encodeBytes(tor.hashBytes)}`);
    const files = r.body.files as Map<string, unknown> | Record<string, Record<string, number>>;
    return Object.values(files)[0] as Record<string, number>;
  };
  const download = async (base: string, u: TestUser, peerId = aPeerId()) => {
    expect(failureOf(await announce(base, { passkey: u.passkey, infoHash: tor.hashBytes, peerId, left: 1000, event: 'started' }))).toBeUndefined();
    return announce(base, { passkey: u.passkey, infoHash: tor.hashBytes, peerId, left: 0, downloaded: 1000, event: 'completed' });
  };

  it('shows a completion in the completing answer, the next scrape and announce, WebSocket scrape and GraphQL, before any flush', async () => {
    const seeder = aPeerId();
    await announce(t.url, { passkey: owner.passkey, infoHash: tor.hashBytes, peerId: seeder, left: 0, event: 'started' });
    // The swarm's count is seeded from the database off the announce path.
    await t.app.ctx.tracker.completions?.idle();
    const u1 = await aUser(t.db);
    const done = await download(t.url, u1);
    expect(done.body).toMatchObject({ downloaded: 1, complete: 2, incomplete: 0 });
    expect(await scrape(t.url, owner.passkey)).toEqual({ complete: 2, downloaded: 1, incomplete: 0 });
    const other = await aUser(t.db);
    const a = await announce(t.url, { passkey: other.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 50, event: 'started' });
    expect(a.body.downloaded).toBe(1);

    // WebTorrent's scrape.
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/announce?passkey=${other.passkey}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (m: Buffer) => resolve(JSON.parse(m.toString()) as Record<string, unknown>)));
    ws.send(JSON.stringify({ action: 'scrape', info_hash: tor.hashBytes.toString('latin1') }));
    expect(((await reply).files as Record<string, unknown>)[tor.hashBytes.toString('latin1')]).toMatchObject({ downloaded: 1 });
    ws.close();

    // GraphQL.
    const { token } = signSession(t.app.ctx.config.auth, other.id, 0);
    await t.app.ctx.users.reload(other.id);
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: `{ torrent(id: "${tor.id}") { completed } }` }) });
    expect(await res.json()).toEqual({ data: { torrent: { completed: 1 } } });
    expect((await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id } })).timesCompleted).toBe(0);
  });

  it('counts a user once, also with another client and after the flush, and agrees with what the flush writes', async () => {
    const u2 = await aUser(t.db);
    expect((await download(t.url, u2)).body.downloaded).toBe(2);
    expect((await download(t.url, u2)).body.downloaded).toBe(2);
    await t.app.ctx.flusher.flush();
    expect((await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id } })).timesCompleted).toBe(2);
    // Completed and flushed: downloading it again never counts.
    expect((await download(t.url, u2)).body.downloaded).toBe(2);
    expect(await scrape(t.url, owner.passkey)).toMatchObject({ downloaded: 2 });
    // aria2 stops right after finishing (left=0, no completed): counted too.
    const quitter = await aUser(t.db);
    const p = aPeerId('A2-1-36-0-');
    await announce(t.url, { passkey: quitter.passkey, infoHash: tor.hashBytes, peerId: p, left: 1000, event: 'started' });
    expect((await announce(t.url, { passkey: quitter.passkey, infoHash: tor.hashBytes, peerId: p, left: 0, downloaded: 1000, event: 'stopped' })).body.downloaded).toBe(3);
    await t.app.ctx.flusher.flush();
    expect((await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id } })).timesCompleted).toBe(3);
    expect(await t.db.prisma.snatch.count({ where: { torrentId: tor.id, completedAt: { not: null } } })).toBe(3);
  });

  it('shows the persisted count after a restart, and goes on counting from it', async () => {
    await t.app.stop(); // graceful: flushes; the database stays open
    restarted = await createApp(t.app.ctx.config, t.db, { logger: createLogger('silent'), timers: false });
    const { port } = await restarted.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    expect(await scrape(url, owner.passkey)).toMatchObject({ downloaded: 3 });
    const again = await aUser(t.db);
    await announce(url, { passkey: again.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 1000, event: 'started' });
    await restarted.ctx.tracker.completions?.idle();
    expect((await download(url, again)).body.downloaded).toBe(4);
    expect(await scrape(url, owner.passkey)).toMatchObject({ downloaded: 4 });
  });
});
