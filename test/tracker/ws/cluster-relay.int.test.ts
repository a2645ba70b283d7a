/**
 * WebTorrent signalling between processes: two apps on one Redis (prefix) and one database,
 * each its own WebSocket tracker, relay channel and node id, as two processes are. Raw `ws`
 * peers on each; offers and answers cross over Redis with the limits of one process. The same
 * with real processes and the `bittorrent-tracker` client: test/e2e/scale-out.e2e.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../../src/app.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { AnnounceEvent } from '../../../src/tracker/protocol/types.ts';
import { SignalBatch } from '../../../src/tracker/ws/cluster-wire.ts';
import { createWsTracker, type WsTracker } from '../../../src/tracker/ws/ws-tracker.ts';
import { aTorrent, aUser, type TestUser } from '../../support/factories.ts';
import { dropRedisPrefix, openTestDatabase, testConfig } from '../../support/test-app.ts';
import { announceMsg, bin, connect, offers, randomId, type Msg, type RawPeer } from './ws-client.ts';

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)('WebTorrent signals between processes (REDIS_URL)', () => {
  const prefix = `ot-test-${randomBytes(5).toString('hex')}`;
  let test: Awaited<ReturnType<typeof openTestDatabase>>;
  const apps: Array<{ app: App; ws: WsTracker; url: (passkey: string) => string }> = [];
  let alice: TestUser;
  let bob: TestUser;
  let redis: Redis;
  const open: RawPeer[] = [];
  const peer = async (at: 0 | 1, user: TestUser) => {
    const p = await connect((apps[at] as (typeof apps)[number]).url(user.passkey));
    open.push(p);
    return p;
  };
  const stats = (at: 0 | 1) => (apps[at] as (typeof apps)[number]).ws.stats();
  const announced = async (p: RawPeer, msg: Msg) => {
    p.send(msg);
    return p.next((m) => m.interval !== undefined);
  };
  const settle = () => new Promise((r) => setTimeout(r, 200));

  beforeAll(async () => {
    test = await openTestDatabase();
    redis = new Redis(redisUrl as string);
    for (let i = 0; i < 2; i++) {
      let ws: WsTracker | undefined;
      const config = testConfig({ REDIS_URL: redisUrl as string, REDIS_PREFIX: prefix }, test.url);
      const app = await createApp(config, test.db, {
        logger: createLogger('silent'),
        timers: false,
        modules: [
          async (ctx) => {
            ws = createWsTracker(ctx, { maxOffers: 10, maxSdpLength: 4096 });
            await ws.ready;
            return ws;
          },
        ],
      });
      const { port } = await app.listen(0, '127.0.0.1');
      apps.push({ app, ws: ws as WsTracker, url: (passkey) => `ws://127.0.0.1:${port}/announce?passkey=${passkey}` });
    }
    alice = await aUser(test.db);
    bob = await aUser(test.db);
  });

  afterAll(async () => {
    for (const p of open) p.ws.terminate();
    for (const { app } of apps) await app.stop();
    await test.close();
    redis.disconnect();
    await dropRedisPrefix(redisUrl as string, prefix);
  });

  it('relays an offer from a peer on one process to a peer on the other, and its answer back', async () => {
    const tor = await aTorrent(test.db, alice.id);
    const ih = bin(tor.infoHash);
    const a = await peer(0, alice);
    const b = await peer(1, bob);
    expect(await announced(a, announceMsg(ih, a.peerId, { event: 'started', left: 0 }))).toMatchObject({ complete: 1, incomplete: 0 });
    const before = [stats(0), stats(1)];
    const [offer] = offers(1) as [ReturnType<typeof offers>[number]];
    expect(await announced(b, announceMsg(ih, b.peerId, { event: 'started', numwant: 1, offers: [offer] }))).toMatchObject({ complete: 1, incomplete: 1 });
    expect(await a.next((m) => m.offer !== undefined)).toEqual({ action: 'announce', offer: offer.offer, offer_id: offer.offer_id, peer_id: b.peerId, info_hash: ih });

    const answer = { type: 'answer', sdp: 'v=0\r\nanswer é \u2028 "quoted"\r\n' };
    a.send({ action: 'announce', info_hash: ih, peer_id: a.peerId, to_peer_id: b.peerId, offer_id: offer.offer_id, answer });
    expect(await b.next((m) => m.answer !== undefined)).toEqual({ action: 'announce', answer, offer_id: offer.offer_id, peer_id: a.peerId, info_hash: ih });
    expect(stats(1).offersForwarded - (before[1]?.offersForwarded ?? 0)).toBe(1);
    expect(stats(0).offersRelayed - (before[0]?.offersRelayed ?? 0)).toBe(1);
    expect(stats(0).answersForwarded - (before[0]?.answersForwarded ?? 0)).toBe(1);
    expect(stats(1).answersRelayed - (before[1]?.answersRelayed ?? 0)).toBe(1);
    for (const p of [a, b]) await p.close();
  });

  it("sends one message to the other process for all of an announce's offers", async () => {
    const tor = await aTorrent(test.db, alice.id);
    const ih = bin(tor.infoHash);
    const others = await Promise.all(Array.from({ length: 10 }, () => peer(1, bob)));
    for (const o of others) await announced(o, announceMsg(ih, o.peerId, { left: 0 }));
    const a = await peer(0, alice);
    const before = stats(0).cluster;
    await announced(a, announceMsg(ih, a.peerId, { numwant: 10, offers: offers(10) }));
    await vi.waitFor(() => expect(others.map((o) => o.received.filter((m) => m.offer !== undefined).length)).toEqual(new Array(10).fill(1)));
    const after = stats(0).cluster;
    expect((after?.messagesSent ?? 0) - (before?.messagesSent ?? 0)).toBe(1);
    expect((after?.signalsSent ?? 0) - (before?.signalsSent ?? 0)).toBe(10);
    for (const p of [a, ...others]) await p.close();
  });

  it('drops an answer to a peer that left, and forwards no answer to a peer that sent no offer', async () => {
    const tor = await aTorrent(test.db, alice.id);
    const ih = bin(tor.infoHash);
    const a = await peer(0, alice);
    const b = await peer(1, bob);
    await announced(a, announceMsg(ih, a.peerId, { left: 0 }));
    const [offer] = offers(1) as [ReturnType<typeof offers>[number]];
    await announced(b, announceMsg(ih, b.peerId, { offers: [offer] }));
    await a.next((m) => m.offer !== undefined);
    await b.close(); // the offerer leaves before the answer
    const unknown = stats(1).remoteUnknown;
    a.send({ action: 'announce', info_hash: ih, peer_id: a.peerId, to_peer_id: b.peerId, offer_id: offer.offer_id, answer: { type: 'answer', sdp: 'late' } });
    await vi.waitFor(() => expect(stats(1).remoteUnknown).toBe(unknown + 1));
    // An answer to a peer that never offered to this one is not forwarded anywhere.
    const forwarded = stats(0).answersForwarded;
    a.send({ action: 'announce', info_hash: ih, peer_id: a.peerId, to_peer_id: randomId(), offer_id: randomId(''), answer: { type: 'answer', sdp: 'x' } });
    await settle();
    expect(stats(0).answersForwarded).toBe(forwarded);
    // Both processes keep serving.
    const c = await peer(1, bob);
    expect(await announced(c, announceMsg(ih, c.peerId, { offers: offers(1) }))).toMatchObject({ complete: 1, incomplete: 1 });
    await a.next((m) => m.offer !== undefined);
    for (const p of [a, c]) await p.close();
  });

  it('closes a socket that floods offers on its own process: nothing reaches the other', async () => {
    const tor = await aTorrent(test.db, alice.id);
    const ih = bin(tor.infoHash);
    const victims = await Promise.all([1, 2, 3].map(() => peer(1, bob)));
    for (const v of victims) await announced(v, announceMsg(ih, v.peerId));
    const sent = stats(0).cluster?.signalsSent;
    const a = await peer(0, alice);
    a.send(announceMsg(ih, a.peerId, { offers: offers(11) }));
    expect((await a.next())['failure reason']).toMatch(/too many offers/);
    expect((await a.closed).code).toBe(1008);
    const big = await peer(0, alice);
    big.send(announceMsg(ih, big.peerId, { offers: [{ offer: { type: 'offer', sdp: 'x'.repeat(4097) }, offer_id: randomId('') }] }));
    expect((await big.next())['failure reason']).toMatch(/offer too large/);
    expect((await big.closed).code).toBe(1008);
    await settle();
    expect(stats(0).cluster?.signalsSent).toBe(sent);
    for (const v of victims) expect(v.received.filter((m) => m.offer !== undefined)).toEqual([]);
    for (const v of victims) await v.close();
  });

  it('drops malformed or oversized messages published on a process channel, and keeps relaying', async () => {
    const tor = await aTorrent(test.db, alice.id);
    const ih = bin(tor.infoHash);
    const key = ih;
    const victim = await peer(1, bob);
    await announced(victim, announceMsg(ih, victim.peerId));
    const channels = (await redis.pubsub('CHANNELS', `${prefix}:rtc:*`)) as string[];
    expect(channels).toHaveLength(2);
    const signal = (sdpJson: string, offerId = JSON.stringify(randomId(''))) => {
      const batch = new SignalBatch(7);
      batch.add('offer', key, victim.peerId, randomId(), { type: 'offer', sdpJson: Buffer.from(sdpJson) }, Buffer.from(offerId));
      return Buffer.from(batch.bytes());
    };
    const good = signal('"v=0"');
    const bad = [
      Buffer.from('not a signal message'),
      Buffer.concat([Buffer.from([2]), good.subarray(1)]), // another version
      good.subarray(0, good.length - 3), // cut short
      signal(JSON.stringify('x'.repeat(4097))), // over the SDP limit
      signal('"unterminated'), // not a JSON string
      signal('"v=0"', '"short id"'),
      Buffer.concat([good, Buffer.from([9])]), // trailing junk
    ];
    for (const ch of channels) for (const m of bad) await redis.publish(ch, m);
    await settle();
    expect(victim.received.filter((m) => m.offer !== undefined)).toEqual([]);
    // A well-formed one (from a process that does not exist) is delivered: the format, not the sender, is checked.
    for (const ch of channels) await redis.publish(ch, good);
    expect(await victim.next((m) => m.offer !== undefined)).toMatchObject({ offer: { type: 'offer', sdp: 'v=0' }, info_hash: ih });
    await victim.close();
  });

  it('stops offering to peers of a process that died, once its channel had no listener', async () => {
    const tor = await aTorrent(test.db, alice.id);
    const ih = bin(tor.infoHash);
    const ghostNode = 0x7fff0001;
    // A WebRTC session left behind by a process that was killed: in the store, keyed by a node nobody listens for.
    await apps[0]?.app.ctx.swarm.announce({ infoHash: ih, peerId: randomId(), userId: bob.id, keyHash: ghostNode, ip: null, port: 0, uploaded: 0, downloaded: 0, left: 0, event: AnnounceEvent.Started, now: Math.floor(Date.now() / 1000) }, { numwant: 0, peerIds: false });
    const live = await peer(1, bob);
    await announced(live, announceMsg(ih, live.peerId, { left: 0 }));
    const a = await peer(0, alice);
    const before = stats(0).cluster;
    // Two offers: one for each of the two peers (the ghost's is lost, as it would be anyway).
    await announced(a, announceMsg(ih, a.peerId, { offers: offers(2) }));
    await live.next((m) => m.offer !== undefined);
    await vi.waitFor(() => expect((stats(0).cluster?.undelivered ?? 0) - (before?.undelivered ?? 0)).toBe(1));
    for (let i = 0; i < 3; i++) {
      await announced(a, announceMsg(ih, a.peerId, { offers: offers(2) }));
      await live.next((m) => m.offer !== undefined);
    }
    await settle();
    const after = stats(0).cluster;
    expect((after?.messagesSent ?? 0) - (before?.messagesSent ?? 0)).toBe(5); // 2 + one per later announce, all to the live process
    expect((after?.undelivered ?? 0) - (before?.undelivered ?? 0)).toBe(1);
    for (const p of [a, live]) await p.close();
  });
});
