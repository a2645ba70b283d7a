/**
 * NexusPHP authkey announces (API.md §1): `announce.php?authkey=<tid>|<uid>|<hashids token>`,
 * checked against the imported torrent_secrets, answered from memory like a passkey.
 */
import Hashids from 'hashids';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aPeerId, aTorrent, aUser, encodeBytes, type TestTorrent, type TestUser } from '../../support/factories.ts';
import { startTestApp, type TestApp } from '../../support/test-app.ts';
import { announceQuery, compactPeers, failureOf, trackerGet } from '../../support/tracker-client.ts';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let tor: TestTorrent;
const token = (secret: string) => new Hashids(secret).encode(20231105);

/** Events reach the caches asynchronously: retries `announce` until `ok` holds (10 s at most; slowly, as refused authkeys count against the address). */
async function until(announce: () => ReturnType<typeof authkeyAnnounce>, ok: (failure: string | undefined) => boolean): Promise<string | undefined> {
  const end = Date.now() + 10_000;
  for (;;) {
    const failure = failureOf(await announce());
    if (ok(failure) || Date.now() > end) return failure;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  t = await startTestApp({}, { timers: false });
  alice = await aUser(t.db);
  bob = await aUser(t.db);
  tor = await aTorrent(t.db, alice.id);
  await t.db.prisma.torrentSecret.createMany({
    data: [
      { userId: alice.id, torrentId: 0, secret: 'aliceEverySecret' },
      { userId: alice.id, torrentId: tor.id, secret: 'aliceThisTorrent' },
      { userId: bob.id, torrentId: 0, secret: 'bobSecret0123456' },
    ],
  });
  // As an import does: every process's caches reload.
  t.app.ctx.events.publish({ type: 'caches.reload' });
  await until(() => authkeyAnnounce(`1|${bob.id}|${token('bobSecret0123456')}`, aPeerId(), 0, '/announce.php', 'stopped'), (f) => f === undefined);
});
afterAll(async () => {
  await t.stop();
});

function authkeyAnnounce(authkey: string, peerId: Buffer, left: number, path = '/announce.php', event: 'started' | 'stopped' = 'started') {
  const q = announceQuery({ infoHash: tor.hashBytes, peerId, left, event, compact: 1 });
  return trackerGet(`${t.url}${path}?authkey=${authkey}&${q}`);
}

describe('authkey announces', () => {
  it("accept the torrent's own secret, or else the user's torrent-0 secret; the peer is that user's", async () => {
    const seeder = aPeerId();
    expect(failureOf(await authkeyAnnounce(`${tor.id}|${alice.id}|${token('aliceThisTorrent')}`, seeder, 0))).toBeUndefined();
    // Bob's file names another torrent id; his torrent-0 secret applies. The `|` arrive encoded.
    const answer = await authkeyAnnounce(`999%7C${bob.id}%7c${token('bobSecret0123456')}`, aPeerId(), 100);
    expect(failureOf(answer)).toBeUndefined();
    expect(compactPeers(answer.body.peers as Uint8Array)).toHaveLength(1);
    // Alice's torrent-specific secret wins over her torrent-0 one for this torrent.
    expect(failureOf(await authkeyAnnounce(`${tor.id}|${alice.id}|${token('aliceEverySecret')}`, aPeerId(), 5))).toMatch(/invalid authkey/);
  });

  it('answers a warm authkey announce and scrape with no database query', async () => {
    const key = `${tor.id}|${alice.id}|${token('aliceThisTorrent')}`;
    const p = aPeerId();
    await authkeyAnnounce(key, p, 0);
    const before = t.db.queries.total;
    for (let i = 0; i < 10; i++) expect(failureOf(await authkeyAnnounce(key, p, 0))).toBeUndefined();
    const scrape = await trackerGet(`${t.url}/scrape.php?authkey=${key}&info_hash=${encodeBytes(tor.hashBytes)}`);
    expect(Object.keys(scrape.body.files as object)).toHaveLength(1);
    expect(t.db.queries.total - before).toBe(0);
  });

  it('refuses a token of another secret, another user, a malformed key, and a disabled account', async () => {
    const refused = [
      `${tor.id}|${bob.id}|${token('aliceThisTorrent')}`,
      `${tor.id}|${alice.id}|${token('wrong')}`,
      `${tor.id}|${alice.id}`,
      `${tor.id}|${alice.id}|!!`,
      `${tor.id}|0|${token('bobSecret0123456')}`,
      '',
    ];
    for (const key of refused) expect(failureOf(await authkeyAnnounce(key, aPeerId(), 5))).toMatch(/authkey|passkey/);
    await t.db.prisma.user.update({ where: { id: bob.id }, data: { status: 'DISABLED' } });
    t.app.ctx.events.publish({ type: 'user.changed', userId: bob.id });
    expect(await until(() => authkeyAnnounce(`1|${bob.id}|${token('bobSecret0123456')}`, aPeerId(), 5), (f) => f !== undefined)).toMatch(/disabled/);
  });

  it('follows a passkey reset: the authkey still names the user, now under the new passkey', async () => {
    const fresh = 'ab'.repeat(16);
    await t.db.prisma.user.update({ where: { id: alice.id }, data: { passkey: fresh } });
    t.app.ctx.events.publish({ type: 'user.changed', userId: alice.id });
    await until(() => trackerGet(`${t.url}/announce?passkey=${fresh}&${announceQuery({ infoHash: tor.hashBytes, peerId: aPeerId(), left: 0, event: 'stopped' })}`), (f) => f === undefined);
    expect(failureOf(await authkeyAnnounce(`${tor.id}|${alice.id}|${token('aliceThisTorrent')}`, aPeerId(), 0))).toBeUndefined();
  });
});
