/**
 * GraphQL subscriptions over graphql-ws with the real `graphql-ws` client against the real
 * server: swarmStats after HTTP and WebSocket announces, siteStats, myTransfer after a flush,
 * torrentAdded, and the hardening of ECOSYSTEM.md §2.8 (4403 without a token, 4408 without
 * connection_init, depth limit as an error with the socket kept, subscriptions per socket).
 */
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { signSession } from '../../src/auth/jwt.ts';
import { createGraphQLModule } from '../../src/graphql/module.ts';
import { createGraphqlWsModule } from '../../src/live/graphql-ws.ts';
import { liveModule } from '../../src/live/live.ts';
import { wsTrackerModule } from '../../src/tracker/ws/ws-tracker.ts';
import { aPeerId, aTorrent, aUser, encodeBytes, type TestUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { announceMsg, bin, connect } from '../tracker/ws/ws-client.ts';

const GENEROUS = { read: { points: 100_000, duration: 60 }, write: { points: 100_000, duration: 60 }, auth: { points: 100_000, duration: 300 } };

interface Next<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** A subscription's events as a pull queue. */
function subscribe<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const events: Array<Next<T>> = [];
  const waiters: Array<() => void> = [];
  let error: unknown = null;
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        events.push(v as Next<T>);
        waiters.splice(0).forEach((w) => w());
      },
      error: (e) => {
        error = e;
        waiters.splice(0).forEach((w) => w());
      },
      complete: () => undefined,
    },
  );
  return {
    dispose,
    events,
    get error() {
      return error;
    },
    async next(pred: (v: Next<T>) => boolean = () => true, timeoutMs = 5000): Promise<Next<T>> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex(pred);
        if (i >= 0) return events.splice(i, 1)[0] as Next<T>;
        if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
        const left = end - Date.now();
        if (left <= 0) throw new Error(`no matching event; got ${JSON.stringify(events)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => (clearTimeout(t), r()));
        });
      }
    },
  };
}

describe('graphql-ws subscriptions', () => {
  let t: TestApp;
  let member: TestUser & { token: string };
  const clients: Client[] = [];
  const client = (connectionParams: Record<string, unknown> | undefined = { authorization: `Bearer ${member.token}` }, extra: { onClose?: (code: number) => void } = {}) => {
    const c = createClient({
      url: `ws://127.0.0.1:${t.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      lazy: true,
      on: { closed: (e) => extra.onClose?.((e as { code: number }).code) },
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestApp({}, { timers: false, modules: [createGraphQLModule({ rateLimits: GENEROUS }), liveModule, wsTrackerModule, createGraphqlWsModule({ connectionInitWaitTimeout: 500, maxSubscriptionsPerSocket: 3 })] });
    const u = await aUser(t.db);
    await t.app.ctx.users.reload(u.id);
    member = { ...u, token: signSession(t.app.ctx.config.auth, u.id, 0).token };
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    const t0 = Date.now();
    await t.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('swarmStats: the current counts, then updates after HTTP and WebSocket announces', async () => {
    const tor = await aTorrent(t.db, member.id);
    const sub = subscribe<{ swarmStats: { infoHash: string; seeders: number; leechers: number; completed: number } }>(
      client(),
      'subscription ($h: String!) { swarmStats(infoHash: $h) { infoHash seeders leechers completed } }',
      { h: tor.infoHash.toUpperCase() },
    );
    expect(await sub.next()).toEqual({ data: { swarmStats: { infoHash: tor.infoHash, seeders: 0, leechers: 0, completed: 0 } } });

    const seeder = await aUser(t.db);
    const res = await fetch(`${t.url}/announce?passkey=${seeder.passkey}&info_hash=${encodeBytes(tor.hashBytes)}&peer_id=${encodeBytes(aPeerId())}&port=6881&uploaded=0&downloaded=0&left=0&event=started&compact=1`);
    expect(res.status).toBe(200);
    expect((await sub.next()).data?.swarmStats).toMatchObject({ seeders: 1, leechers: 0 });

    const peer = await connect(`ws://127.0.0.1:${t.port}/announce?passkey=${member.passkey}`);
    peer.send(announceMsg(bin(tor.infoHash), peer.peerId, { left: 10 }));
    await peer.next((m) => m.interval !== undefined);
    expect((await sub.next((e) => e.data?.swarmStats.leechers === 1)).data?.swarmStats).toMatchObject({ seeders: 1, leechers: 1 });

    await peer.close();
    expect((await sub.next((e) => e.data?.swarmStats.leechers === 0)).data?.swarmStats).toMatchObject({ seeders: 1, leechers: 0 });
    sub.dispose();
  });

  it('swarmStatsByTorrent and siteStats', async () => {
    const tor = await aTorrent(t.db, member.id);
    const c = client();
    const byId = subscribe<{ swarmStatsByTorrent: { torrentId: string; seeders: number } }>(c, 'subscription ($id: ID!) { swarmStatsByTorrent(id: $id) { torrentId seeders } }', { id: String(tor.id) });
    const site = subscribe<{ siteStats: { users: number; torrents: number; peers: number; seeders: number; leechers: number } }>(c, 'subscription { siteStats { users torrents peers seeders leechers } }');
    expect((await byId.next()).data).toEqual({ swarmStatsByTorrent: { torrentId: String(tor.id), seeders: 0 } });
    const first = (await site.next()).data?.siteStats;
    expect(first?.users).toBeGreaterThanOrEqual(1);
    const seeder = await aUser(t.db);
    await fetch(`${t.url}/announce?passkey=${seeder.passkey}&info_hash=${encodeBytes(tor.hashBytes)}&peer_id=${encodeBytes(aPeerId())}&port=6881&uploaded=0&downloaded=0&left=0&event=started&compact=1`);
    expect((await byId.next()).data).toEqual({ swarmStatsByTorrent: { torrentId: String(tor.id), seeders: 1 } });
    const next = (await site.next((e) => (e.data?.siteStats.seeders ?? 0) > (first?.seeders ?? 0))).data?.siteStats;
    expect(next?.peers).toBe((first?.peers ?? 0) + 1);
    byId.dispose();
    site.dispose();
  });

  it('myTransfer: the viewer totals after the accounting flush credits them', async () => {
    const tor = await aTorrent(t.db, member.id);
    const sub = subscribe<{ myTransfer: { uploaded: string; downloaded: string; ratio: number | null; bonus: number } }>(client(), 'subscription { myTransfer { uploaded downloaded ratio bonus } }');
    const start = (await sub.next()).data?.myTransfer;
    expect(start).toMatchObject({ downloaded: '0', ratio: null });
    const peer = await connect(`ws://127.0.0.1:${t.port}/announce?passkey=${member.passkey}`);
    peer.send(announceMsg(bin(tor.infoHash), peer.peerId, { uploaded: 0, downloaded: 0, left: 100 }));
    await peer.next((m) => m.interval !== undefined);
    // Another leecher to upload to: upload with nobody to receive it is not credited.
    const other = await connect(`ws://127.0.0.1:${t.port}/announce?passkey=${(await aUser(t.db)).passkey}`);
    other.send(announceMsg(bin(tor.infoHash), other.peerId, { uploaded: 0, downloaded: 0, left: 100 }));
    await other.next((m) => m.interval !== undefined);
    peer.send(announceMsg(bin(tor.infoHash), peer.peerId, { uploaded: 2048, downloaded: 1024, left: 50 }));
    await peer.next((m) => m.interval !== undefined);
    await t.app.ctx.flusher.flush();
    expect((await sub.next()).data?.myTransfer).toEqual({ uploaded: String(BigInt(start?.uploaded ?? '0') + 2048n), downloaded: '1024', ratio: 2, bonus: start?.bonus ?? 0 });
    await peer.close();
    await other.close();
    sub.dispose();
  });

  it('refuses a connection without a valid token with 4403', async () => {
    let code = 0;
    const sub = subscribe(client({}, { onClose: (c) => (code = c) }), 'subscription { siteStats { users } }');
    await vi.waitFor(() => expect(code).toBe(4403));
    sub.dispose();
    let code2 = 0;
    const sub2 = subscribe(client({ authorization: 'Bearer nope' }, { onClose: (c) => (code2 = c) }), 'subscription { siteStats { users } }');
    await vi.waitFor(() => expect(code2).toBe(4403));
    sub2.dispose();
  });

  it('accepts the session cookie of the upgrade request', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/graphql`, 'graphql-transport-ws', { headers: { cookie: `${t.app.ctx.config.auth.cookieName}=${member.token}` } });
    const got: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => got.push(JSON.parse((d as Buffer).toString('utf8')) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init' }));
    await vi.waitFor(() => expect(got[0]).toEqual({ type: 'connection_ack' }));
    ws.close();
  });

  it('closes a socket that never sends connection_init with 4408', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/graphql`, 'graphql-transport-ws');
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(4408);
  });

  it('applies the armor limits over WebSocket (error, socket kept) and caps subscriptions per socket', async () => {
    const c = client();
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: users`).join(' ');
    const armored = subscribe(c, `subscription { siteStats { ${aliases} } }`);
    await vi.waitFor(() => expect(armored.error).toBeTruthy());
    expect(JSON.stringify(armored.error)).toMatch(/alias/i);
    expect(JSON.stringify(armored.error)).toMatch(/BAD_USER_INPUT/);
    const bad = subscribe(c, 'subscription { siteStats { users nope } }');
    await vi.waitFor(() => expect(bad.error).toBeTruthy());
    expect(JSON.stringify(bad.error)).toMatch(/nope/);
    // The socket is still usable: up to the cap (3 here), then refused.
    const q = 'subscription { siteStats { users } }';
    const subs = [subscribe(c, q), subscribe(c, q), subscribe(c, q)];
    for (const x of subs) await x.next();
    const over = subscribe(c, q);
    await vi.waitFor(() => expect(over.error).toBeTruthy());
    expect(JSON.stringify(over.error)).toMatch(/too many subscriptions/);
    expect(JSON.stringify(over.error)).toMatch(/RATE_LIMITED/);
    subs[0]?.dispose();
    await new Promise((r) => setTimeout(r, 100));
    const again = subscribe(c, q);
    expect((await again.next()).data).toBeTruthy();
    for (const x of [...subs, again]) x.dispose();
  });
});
