import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aPeerId, aTorrent, aUser } from '../../support/factories.ts';
import { startTestApp, type TestApp } from '../../support/test-app.ts';
import { announce, failureOf, trackerGet } from '../../support/tracker-client.ts';

describe('the announce hot path', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { timers: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('makes no database query for a warm announce or scrape (users, torrents and clients are cached)', async () => {
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    const p = aPeerId();
    // Cold: the user and torrent were created after start, so each is looked up once.
    expect(failureOf(await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 5, event: 'started' }))).toBeUndefined();
    const before = t.db.queries.total;
    for (let i = 0; i < 20; i++) {
      const a = await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: i % 2 ? p : aPeerId(), left: 5, uploaded: i });
      expect(failureOf(a)).toBeUndefined();
    }
    await trackerGet(`${t.url}/scrape?passkey=${u.passkey}&info_hash=${[...tor.hashBytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`);
    expect(t.db.queries.total - before).toBe(0);
  });

  it('looks an unknown passkey up once, then answers from the negative cache', async () => {
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    const unknown = 'e'.repeat(32);
    await announce(t.url, { passkey: unknown, infoHash: tor.hashBytes, peerId: aPeerId() });
    const before = t.db.queries.total;
    for (let i = 0; i < 10; i++) await announce(t.url, { passkey: unknown, infoHash: tor.hashBytes, peerId: aPeerId() });
    expect(t.db.queries.total - before).toBe(0);
  });
});
