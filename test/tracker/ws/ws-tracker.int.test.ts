/**
 * The WebTorrent tracker over real sockets: raw `ws` JSON peers exchanging offers and answers,
 * scrape, accounting through the same path as HTTP, and the abuse cases of ECOSYSTEM.md §2.7
 * (bad JSON, oversized frames, offer floods, cross-swarm answers, missing passkeys).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { manualClock } from '../../../src/shared/clock.ts';
import { aTorrent, aUser, encodeBytes, type TestTorrent, type TestUser } from '../../support/factories.ts';
import { startTestApp, swarmBackends, type TestApp } from '../../support/test-app.ts';
import { announceMsg, bin, connect, offers, randomId, type RawPeer } from './ws-client.ts';

// On the Redis store the offers go to the store's picks (as with several processes, all here).
describe.each(swarmBackends)('WebTorrent tracker (WebSocket /announce, %s swarm store)', (backend) => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let wsUrl: (passkey: string) => string;
  const open: RawPeer[] = [];
  const peer = async (passkey: string) => {
    const p = await connect(wsUrl(passkey));
    open.push(p);
    return p;
  };

  beforeAll(async () => {
    t = await startTestApp({}, { swarmBackend: backend, timers: false });
    alice = await aUser(t.db);
    bob = await aUser(t.db);
    wsUrl = (passkey) => `ws://127.0.0.1:${t.port}/announce?passkey=${passkey}`;
  });
  afterAll(async () => {
    for (const p of open) p.ws.terminate();
    await t.stop();
  });

  it('relays an offer to another peer of the swarm and its answer back', async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const a = await peer(alice.passkey);
    const b = await peer(bob.passkey);

    a.send(announceMsg(ih, a.peerId, { event: 'started', left: 0, numwant: 5, offers: offers(5) }));
    expect(await a.next((m) => m.interval !== undefined)).toEqual({ action: 'announce', interval: 120, info_hash: ih, complete: 1, incomplete: 0 });

    const [offer] = offers(1) as [ReturnType<typeof offers>[number]];
    b.send(announceMsg(ih, b.peerId, { event: 'started', numwant: 1, offers: [offer] }));
    expect(await b.next((m) => m.interval !== undefined)).toMatchObject({ complete: 1, incomplete: 1, info_hash: ih });
    const got = await a.next((m) => m.offer !== undefined);
    expect(got).toEqual({ action: 'announce', offer: offer.offer, offer_id: offer.offer_id, peer_id: b.peerId, info_hash: ih });

    const answer = { type: 'answer', sdp: 'v=0\r\nanswer\r\n' };
    a.send({ action: 'announce', info_hash: ih, peer_id: a.peerId, to_peer_id: b.peerId, offer_id: offer.offer_id, answer });
    expect(await b.next((m) => m.answer !== undefined)).toEqual({ action: 'announce', answer, offer_id: offer.offer_id, peer_id: a.peerId, info_hash: ih });
    // The answerer gets no announce reply for an answer message.
    await new Promise((r) => setTimeout(r, 100));
    expect(a.received.filter((m) => m.interval !== undefined)).toEqual([]);

    // Scrape over the socket.
    b.send({ action: 'scrape', info_hash: ih });
    expect(await b.next((m) => m.action === 'scrape')).toEqual({ action: 'scrape', files: { [ih]: { complete: 1, incomplete: 1, downloaded: 0 } } });

    // Close ends the session at once (stopped on close).
    await a.close();
    await vi.waitFor(async () => expect((await t.app.ctx.swarm.scrape([ih]))[0]).toMatchObject({ seeders: 0, leechers: 1 }));
    await b.close();
    await vi.waitFor(async () => expect((await t.app.ctx.swarm.scrape([ih]))[0]).toMatchObject({ seeders: 0, leechers: 0 }));
  });

  it('never sends an offer to the announcing peer itself or to HTTP peers, and counts both', async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const res = await fetch(`${t.url}/announce?passkey=${alice.passkey}&info_hash=${encodeBytes(tor.hashBytes)}&peer_id=-qB4630-aaaaaaaaaaaa&port=6881&uploaded=0&downloaded=0&left=0&compact=1`);
    expect(res.status).toBe(200);
    const a = await peer(bob.passkey);
    a.send(announceMsg(ih, a.peerId, { numwant: 5, offers: offers(5) }));
    expect(await a.next((m) => m.interval !== undefined)).toMatchObject({ complete: 1, incomplete: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.received.filter((m) => m.offer !== undefined)).toEqual([]);
    // And the HTTP peer gets no WebRTC peer in its list.
    const again = Buffer.from(await (await fetch(`${t.url}/announce?passkey=${alice.passkey}&info_hash=${encodeBytes(tor.hashBytes)}&peer_id=-qB4630-aaaaaaaaaaaa&port=6881&uploaded=0&downloaded=0&left=0&compact=1`)).arrayBuffer()).toString('latin1');
    expect(again).toContain('5:peers0:');
    await a.close();
  });

  it('spreads the offers of one announce over distinct peers, at most one each', async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const others = await Promise.all([1, 2, 3].map(() => peer(bob.passkey)));
    for (const o of others) {
      o.send(announceMsg(ih, o.peerId, { left: 0 }));
      await o.next((m) => m.interval !== undefined);
    }
    const a = await peer(alice.passkey);
    a.send(announceMsg(ih, a.peerId, { numwant: 5, offers: offers(5) }));
    await a.next((m) => m.interval !== undefined);
    await new Promise((r) => setTimeout(r, 150));
    for (const o of others) expect(o.received.filter((m) => m.offer !== undefined)).toHaveLength(1);
    for (const p of [a, ...others]) await p.close();
  });

  it("sends a seeder's offers to leechers only, and a leecher's to seeders and leechers", async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const seeders = await Promise.all([1, 2].map(() => peer(bob.passkey)));
    const leechers = await Promise.all([1, 2].map(() => peer(bob.passkey)));
    for (const [o, left] of [...seeders.map((o) => [o, 0] as const), ...leechers.map((o) => [o, 100] as const)]) {
      o.send(announceMsg(ih, o.peerId, { left }));
      await o.next((m) => m.interval !== undefined);
    }
    const seed = await peer(alice.passkey);
    seed.send(announceMsg(ih, seed.peerId, { left: 0, numwant: 5, offers: offers(5) }));
    await seed.next((m) => m.interval !== undefined);
    await new Promise((r) => setTimeout(r, 150));
    for (const o of seeders) expect(o.received.filter((m) => m.offer !== undefined)).toHaveLength(0);
    for (const o of leechers) expect(o.received.filter((m) => m.offer !== undefined)).toHaveLength(1);
    const leech = await peer(alice.passkey);
    leech.send(announceMsg(ih, leech.peerId, { left: 100, numwant: 5, offers: offers(5) }));
    await leech.next((m) => m.interval !== undefined);
    await new Promise((r) => setTimeout(r, 150));
    for (const o of [...seeders, seed]) expect(o.received.filter((m) => m.offer !== undefined)).toHaveLength(1);
    for (const o of leechers) expect(o.received.filter((m) => m.offer !== undefined)).toHaveLength(2);
    for (const p of [seed, leech, ...seeders, ...leechers]) await p.close();
  });

  it('delivers the frames relayed to one socket in order, SDP text exactly as sent, from text and binary frames', async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const a = await peer(alice.passkey);
    const b = await peer(bob.passkey);
    a.send(announceMsg(ih, a.peerId, { left: 0 }));
    await a.next((m) => m.interval !== undefined);
    b.send(announceMsg(ih, b.peerId));
    await b.next((m) => m.interval !== undefined);
    const answer = (sdp: string) => ({ action: 'announce', info_hash: ih, peer_id: b.peerId, to_peer_id: a.peerId, offer_id: randomId(''), answer: { type: 'answer', sdp } });
    const sent = Array.from({ length: 30 }, (_, i) => answer(`v=0\r\na=n:${i} "q" \\ é ✓ 😀 \u0001\r\n`));
    // Written back to back, so many reach the server in one read and leave in one corked write.
    for (const m of sent) b.send(m);
    // Escapes a JSON encoder other than JSON.stringify may use, and a binary frame.
    const escaped = answer('v=0\r\né😀/');
    b.send(JSON.stringify(escaped).replace('v=0', '\\u0076=0').replace('é', '\\u00e9').replace('😀', '\\ud83d\\ude00').replace('/', '\\/'));
    const binary = answer('v=0 binary');
    b.ws.send(Buffer.from(JSON.stringify(binary)), { binary: true });
    // A binary frame is not checked by ws: invalid UTF-8 in it is decoded as before (U+FFFD), never relayed raw.
    const broken = Buffer.from(JSON.stringify(answer('v=0 XX')));
    broken.write('\xff\xfe', broken.indexOf('XX'), 'latin1');
    b.ws.send(broken, { binary: true });
    // One message in three fragments with a ping between them (ws's receiver state is reset per
    // message; ws-tracker empties its spent fragment lists), then an unfragmented one.
    const fragmented = JSON.stringify(answer('v=0 fragmented é'));
    const cut1 = 20;
    const cut2 = fragmented.indexOf('fragmented');
    b.ws.send(fragmented.slice(0, cut1), { fin: false });
    b.ws.ping();
    b.ws.send(fragmented.slice(cut1, cut2), { fin: false });
    b.ws.send(fragmented.slice(cut2), { fin: true });
    const last = answer('v=0 after the fragments');
    b.send(last);
    const got: unknown[] = [];
    for (let i = 0; i < sent.length + 5; i++) got.push((await a.next((m) => m.answer !== undefined)).answer);
    expect(got).toEqual([...sent.map((m) => m.answer), escaped.answer, binary.answer, { type: 'answer', sdp: 'v=0 \ufffd\ufffd' }, { type: 'answer', sdp: 'v=0 fragmented é' }, last.answer]);
    expect(b.received.filter((m) => m['failure reason'] !== undefined)).toEqual([]);
    for (const p of [a, b]) await p.close();
  });

  it('relays an offer larger than 64 KiB when the limits allow it', async () => {
    const t2 = await startTestApp({}, { swarmBackend: backend, timers: false, modules: [(ctx) => import('../../../src/tracker/ws/ws-tracker.ts').then((m) => m.createWsTracker(ctx, { maxPayload: 256 * 1024, maxSdpLength: 100_000 }))] });
    try {
      const u = await aUser(t2.db);
      const ih = bin((await aTorrent(t2.db, u.id)).infoHash);
      const url = `ws://127.0.0.1:${t2.port}/announce?passkey=${u.passkey}`;
      const [a, b] = [await connect(url), await connect(url)];
      a.send(announceMsg(ih, a.peerId, { left: 0 }));
      await a.next((m) => m.interval !== undefined);
      const offer = { offer: { type: 'offer', sdp: 'a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host\r\n'.repeat(1400) }, offer_id: randomId('') };
      b.send(announceMsg(ih, b.peerId, { numwant: 1, offers: [offer] }));
      expect(await a.next((m) => m.offer !== undefined)).toEqual({ action: 'announce', offer: offer.offer, offer_id: offer.offer_id, peer_id: b.peerId, info_hash: ih });
      for (const p of [a, b]) p.ws.terminate();
    } finally {
      await t2.stop();
    }
  });

  it('credits transfer between announces exactly as HTTP does', async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const u = await aUser(t.db);
    const a = await peer(u.passkey);
    a.send(announceMsg(ih, a.peerId, { event: 'started', uploaded: 1000, downloaded: 0, left: 100 }));
    await a.next((m) => m.interval !== undefined);
    // Another leecher to upload to: upload with nobody to receive it is not credited.
    const b = await peer((await aUser(t.db)).passkey);
    b.send(announceMsg(ih, b.peerId, { event: 'started', left: 100 }));
    await b.next((m) => m.interval !== undefined);
    a.send(announceMsg(ih, a.peerId, { uploaded: 5000, downloaded: 300, left: 0 }));
    expect(await a.next((m) => m.interval !== undefined)).toMatchObject({ complete: 1, incomplete: 1 });
    await t.app.ctx.flusher.flush();
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
    expect(row.uploaded).toBe(4000n);
    expect(row.downloaded).toBe(300n);
    await a.close();
    await b.close();
  });

  it('answers bad JSON with a failure reason and keeps the socket', async () => {
    const a = await peer(alice.passkey);
    a.send('not json');
    expect(await a.next()).toEqual({ 'failure reason': 'invalid message: expected a JSON object' });
    a.send({ action: 'announce', info_hash: 'short', peer_id: a.peerId });
    expect((await a.next())['failure reason']).toMatch(/info_hash/);
    a.send({ action: 'nope' });
    expect((await a.next())['failure reason']).toMatch(/action/);
    const tor = await aTorrent(t.db, alice.id);
    a.send(announceMsg(bin(tor.infoHash), a.peerId));
    expect(await a.next((m) => m.interval !== undefined)).toMatchObject({ complete: 0, incomplete: 1 });
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    await a.close();
  });

  it('reports tracker failures (unregistered torrent) routed by info_hash', async () => {
    const a = await peer(alice.passkey);
    const ih = randomId('');
    a.send(announceMsg(ih, a.peerId));
    expect(await a.next()).toEqual({ action: 'announce', 'failure reason': 'torrent not registered with this tracker', info_hash: ih });
    await a.close();
  });

  it('closes a socket that sends a 1 MiB frame with 1009, and keeps serving others', async () => {
    const a = await peer(alice.passkey);
    a.send('x'.repeat(1024 * 1024));
    expect((await a.closed).code).toBe(1009);
    const b = await peer(alice.passkey);
    const tor = await aTorrent(t.db, alice.id);
    b.send(announceMsg(bin(tor.infoHash), b.peerId));
    expect(await b.next((m) => m.interval !== undefined)).toMatchObject({ incomplete: 1 });
    await b.close();
  });

  it('closes a socket announcing 200 offers; no peer receives any of them', async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const victims = await Promise.all([1, 2, 3, 4, 5].map(() => peer(bob.passkey)));
    for (const v of victims) {
      v.send(announceMsg(ih, v.peerId));
      await v.next((m) => m.interval !== undefined);
    }
    const a = await peer(alice.passkey);
    const flood = offers(200).map((o) => ({ ...o, offer: { type: 'offer', sdp: 'x' } }));
    a.send(announceMsg(ih, a.peerId, { numwant: 200, offers: flood }));
    expect((await a.next())['failure reason']).toMatch(/too many offers/);
    expect((await a.closed).code).toBe(1008);
    await new Promise((r) => setTimeout(r, 100));
    for (const v of victims) expect(v.received.filter((m) => m.offer !== undefined)).toEqual([]);
    // 11 offers (just over the cap) are a flood too; 10 are fine.
    const b = await peer(alice.passkey);
    b.send(announceMsg(ih, b.peerId, { numwant: 10, offers: offers(10) }));
    expect(await b.next((m) => m.interval !== undefined)).toMatchObject({ info_hash: ih });
    await new Promise((r) => setTimeout(r, 100));
    for (const v of victims) expect(v.received.filter((m) => m.offer !== undefined)).toHaveLength(1);
    for (const p of [b, ...victims]) await p.close();
  });

  it('does not deliver an answer to a peer of another swarm', async () => {
    const [t1, t2] = await Promise.all([aTorrent(t.db, alice.id), aTorrent(t.db, alice.id)]);
    const ih1 = bin(t1.infoHash);
    const ih2 = bin(t2.infoHash);
    const a = await peer(alice.passkey);
    const victim = await peer(bob.passkey);
    a.send(announceMsg(ih1, a.peerId));
    await a.next((m) => m.interval !== undefined);
    victim.send(announceMsg(ih2, victim.peerId));
    await victim.next((m) => m.interval !== undefined);
    const answer = { type: 'answer', sdp: 'evil' };
    // To a peer of swarm 2, claiming swarm 1 (where the victim is not).
    a.send({ action: 'announce', info_hash: ih1, peer_id: a.peerId, to_peer_id: victim.peerId, offer_id: randomId(''), answer });
    // Claiming swarm 2 (which the sender never joined).
    a.send({ action: 'announce', info_hash: ih2, peer_id: a.peerId, to_peer_id: victim.peerId, offer_id: randomId(''), answer });
    expect((await a.next((m) => m['failure reason'] !== undefined))['failure reason']).toMatch(/not announced/);
    await new Promise((r) => setTimeout(r, 150));
    expect(victim.received.filter((m) => m.answer !== undefined)).toEqual([]);
    await a.close();
    await victim.close();
  });

  it('refuses a peer_id already held by another socket in the swarm', async () => {
    const tor = await aTorrent(t.db, alice.id);
    const ih = bin(tor.infoHash);
    const a = await peer(alice.passkey);
    a.send(announceMsg(ih, a.peerId));
    await a.next((m) => m.interval !== undefined);
    const thief = await peer(bob.passkey);
    thief.send(announceMsg(ih, a.peerId));
    expect((await thief.next())['failure reason']).toMatch(/already in use/);
    expect((await t.app.ctx.swarm.scrape([ih]))[0]).toMatchObject({ seeders: 0, leechers: 1 });
    await a.close();
    await thief.close();
  });

  it('refuses a missing, malformed or unknown passkey with 401 before any swarm join', async () => {
    const url = `ws://127.0.0.1:${t.port}/announce`;
    await expect(connect(url)).rejects.toMatchObject({ status: 401 });
    await expect(connect(`${url}?passkey=nothex`)).rejects.toMatchObject({ status: 401 });
    await expect(connect(`${url}?passkey=${'0'.repeat(32)}`)).rejects.toMatchObject({ status: 401 });
    const banned = await aUser(t.db, { status: 'BANNED' });
    await expect(connect(`${url}?passkey=${banned.passkey}`)).rejects.toMatchObject({ status: 403 });
    // The path form works too.
    const ok = await connect(`${url}/${alice.passkey}`);
    await ok.close();
  });

  // The two below do not involve the store.
  it.skipIf(backend === 'redis')('refuses an address that guesses passkeys, before any lookup, for the rest of the minute', async () => {
    // The count is per clock minute: on the system clock, thirty guesses that straddle a minute
    // boundary are two minutes' worth, and the test would pass or fail by the time it ran.
    const clock = manualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
    const t2 = await startTestApp({}, { swarmBackend: backend, timers: false, clock });
    try {
      const u = await aUser(t2.db);
      const url = `ws://127.0.0.1:${t2.port}/announce?passkey=`;
      for (let i = 0; i < 30; i++) await expect(connect(url + i.toString(16).padStart(32, '0'))).rejects.toMatchObject({ status: 401 });
      await expect(connect(url + u.passkey)).rejects.toMatchObject({ status: 429 });
      clock.advance(59_000);
      await expect(connect(url + u.passkey)).rejects.toMatchObject({ status: 429 });
      clock.advance(1_000);
      const welcome = await connect(url + u.passkey);
      welcome.ws.terminate();
    } finally {
      await t2.stop();
    }
  });

  it.skipIf(backend === 'redis')('limits announces per socket per minute, then closes', async () => {
    const t2 = await startTestApp({}, { swarmBackend: backend, timers: false, modules: [(ctx) => import('../../../src/tracker/ws/ws-tracker.ts').then((m) => m.createWsTracker(ctx, { announcesPerMinute: 3 }))] });
    try {
      const u = await aUser(t2.db);
      const tor: TestTorrent = await aTorrent(t2.db, u.id);
      const ih = bin(tor.infoHash);
      const a = await connect(`ws://127.0.0.1:${t2.port}/announce?passkey=${u.passkey}`);
      for (let i = 0; i < 3; i++) {
        a.send(announceMsg(ih, a.peerId));
        await a.next((m) => m.interval !== undefined);
      }
      a.send(announceMsg(ih, a.peerId));
      expect((await a.next())['failure reason']).toMatch(/too many announces/);
      for (let i = 0; i < 3; i++) a.send(announceMsg(ih, a.peerId));
      expect((await a.closed).code).toBe(1008);
      await vi.waitFor(async () => expect((await t2.app.ctx.swarm.scrape([ih]))[0]).toMatchObject({ seeders: 0, leechers: 0 }));
    } finally {
      await t2.stop();
    }
  });
});
