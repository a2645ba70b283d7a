/**
 * Ratio watch (Gazelle's rules) through the rules tick, on an injected clock: the required
 * ratio from the downloaded bracket lowered by seeding, the watch and its deadline, the leech
 * block past it or after downloading more while on watch, and recovery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MyRulesDocument } from '../generated/graphql.ts';
import { gql } from '../graphql/support.ts';
import { failureOf } from '../support/tracker-client.ts';
import { Client, startRulesApp, type RulesApp } from './support.ts';

const GiB = 2 ** 30;
const WEEKS_2 = 14 * 86400;
let r: RulesApp;
/** Torrents the users of these tests snatched (each user has their own snatches of them). */
const pool: Array<{ id: number }> = [];

beforeAll(async () => {
  r = await startRulesApp({ HNR_ENABLED: 'false', RATIO_WATCH_ENABLED: 'true' });
  const owner = await r.member();
  for (let i = 0; i < 10; i++) pool.push(await r.torrent(owner));
});
afterAll(async () => {
  await r.stop();
});

async function me(token: string) {
  const res = await gql(r.t, MyRulesDocument, {}, { token });
  if (!res.data) throw new Error(`me: ${JSON.stringify(res.errors)}`);
  return res.data.me;
}

/** A user with these totals and `snatched` completed torrents, `seeding` of them seeded now. */
async function withTotals(downloadedGiB: number, uploadedGiB: number, snatched = 10, seeding = 0, role: 'USER' | 'MODERATOR' = 'USER') {
  const u = await r.member({ role });
  await setTotals(u.id, downloadedGiB, uploadedGiB);
  const now = new Date(r.clock.now());
  await r.t.db.prisma.snatch.createMany({
    data: pool.slice(0, snatched).map((tor, i) => ({ userId: u.id, torrentId: tor.id, completedAt: now, seedTime: i < seeding ? 3600n : 0n, lastAnnounceAt: i < seeding ? now : new Date(r.clock.now() - 86400_000) })),
  });
  return u;
}

const setTotals = (id: number, downloadedGiB: number, uploadedGiB: number) => r.t.db.prisma.user.update({ where: { id }, data: { downloaded: BigInt(Math.round(downloadedGiB * GiB)), uploaded: BigInt(Math.round(uploadedGiB * GiB)) } });

describe('the required ratio', () => {
  it('follows the downloaded bracket, lowered by the share of snatches seeded now', async () => {
    const cases: Array<[number, number, number, number]> = [
      // downloaded GiB, snatched, seeding, required
      [4, 10, 0, 0],
      [25, 10, 0, 0.3],
      [25, 10, 5, 0.15],
      [25, 10, 10, 0.05],
      [150, 10, 0, 0.6],
      [150, 0, 0, 0.6],
    ];
    const users = [];
    for (const [down, snatched, seeding] of cases) users.push(await withTotals(down, 100, snatched, seeding));
    await r.settle();
    for (const [i, u] of users.entries()) expect([cases[i], (await me(u.token)).requiredRatio]).toEqual([cases[i], cases[i]?.[3]]);
  });
});

describe('the watch', () => {
  it('starts below the required ratio, ends when the ratio is back', async () => {
    const u = await withTotals(25, 1);
    const report = await r.settle();
    expect(report.watches).toEqual([{ userId: u.id, change: 'WATCH_STARTED' }]);
    expect(await me(u.token)).toMatchObject({ requiredRatio: 0.3, ratioWatchEndsAt: new Date(r.clock.now() + WEEKS_2 * 1000).toISOString(), leechBlocks: [] });
    expect((await r.settle()).watches).toEqual([]);
    await setTotals(u.id, 25, 7.5);
    expect((await r.settle()).watches).toEqual([{ userId: u.id, change: 'WATCH_ENDED' }]);
    expect((await me(u.token)).ratioWatchEndsAt).toBeNull();
  });

  it('past the deadline refuses leeching (never seeding) until the ratio is back', async () => {
    const u = await withTotals(25, 1);
    await r.settle();
    r.advance(WEEKS_2 - 1);
    expect((await r.settle()).blocks).toEqual([]);
    r.advance(1);
    expect((await r.settle()).blocks).toEqual([{ userId: u.id, reason: 'RATIO_WATCH', change: 'BLOCKED' }]);
    const owner = await r.member();
    const tor = await r.torrent(owner);
    const leech = new Client(r, u, tor, 1000);
    expect(failureOf(await leech.announce('started'))).toBe('downloading is disabled: your ratio watch ended below the required ratio 0.30; seeding still works: upload until your ratio reaches it');
    await new Client(r, u, tor, 0).ok('started');
    await setTotals(u.id, 25, 8);
    const back = await r.settle();
    expect(back.watches).toEqual([{ userId: u.id, change: 'WATCH_ENDED' }]);
    expect(back.blocks).toEqual([{ userId: u.id, reason: 'RATIO_WATCH', change: 'LIFTED' }]);
    await leech.ok('started');
  });

  it('downloading more than RATIO_WATCH_GAMBLE_BYTES while on watch refuses leeching at once', async () => {
    const u = await withTotals(25, 1);
    await r.settle();
    await setTotals(u.id, 35, 1);
    expect((await r.settle()).blocks).toEqual([]);
    await r.t.db.prisma.user.update({ where: { id: u.id }, data: { downloaded: BigInt(35 * GiB + 1) } });
    expect((await r.settle()).blocks).toEqual([{ userId: u.id, reason: 'RATIO_WATCH', change: 'BLOCKED' }]);
    expect((await me(u.token)).leechBlocks[0]?.message).toBe('downloading is disabled: you downloaded more than 10 GiB while on ratio watch, below the required ratio 0.40; seeding still works: upload until your ratio reaches it');
  });

  it('never watches below the first bracket, with nothing downloaded, or an exempt role', async () => {
    const small = await withTotals(4.9, 0);
    const none = await withTotals(0, 0, 0);
    const mod = await withTotals(50, 0, 10, 0, 'MODERATOR');
    const report = await r.settle();
    for (const u of [small, none, mod]) expect(report.watches.filter((w) => w.userId === u.id)).toEqual([]);
    expect((await me(mod.token)).requiredRatio).toBe(0.6);
  });
});
