/**
 * NexusPHP's seeding bonus (BONUS_FORMULA=nexus) paid by the rules tick once per period, from
 * what the tracker saw: the worked examples of the research notes, the seeded-torrents cap,
 * nothing for leechers, and nothing twice in one period.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nexusPointsPerHour } from '../../src/rules/seeding-bonus.ts';
import { Client, startRulesApp, type RulesApp } from './support.ts';

const GiB = 2n ** 30n;
let r: RulesApp;

beforeAll(async () => {
  r = await startRulesApp({ HNR_ENABLED: 'false', BONUS_FORMULA: 'nexus', BONUS_TICK_SECONDS: '3600' });
});
afterAll(async () => {
  await r.stop();
});

const nexus = { formula: 'nexus', tickSeconds: 3600, b0: 100, l: 300, t0Weeks: 4, n0: 7, perSeed: 1, maxSeed: 7 } as const;
const bonusOf = async (id: number) => (await r.t.db.prisma.user.findUniqueOrThrow({ where: { id }, select: { bonus: true } })).bonus;

/** A torrent of `size` created `weeks` before the clock. */
async function aged(size: bigint, weeks: number) {
  const tor = await r.torrent(await r.member(), { size });
  await r.t.db.prisma.torrent.update({ where: { id: tor.id }, data: { createdAt: new Date(r.clock.now() - weeks * 7 * 86400_000) } });
  return tor;
}

/** Seeders announcing twice a minute apart (so they have seeding time), then settled. */
async function seed(clients: Client[]): Promise<void> {
  for (const c of clients) await c.ok('started');
  r.advance(60);
  for (const c of clients) await c.ok();
}

describe('the NexusPHP seeding bonus', () => {
  it('pays B per hour for one 10 GiB torrent, 4 weeks old: 5.60 with 1 seeder, 3.18 with 7; once per period; the flat accrual is off', async () => {
    const tor = await aged(10n * GiB, 4);
    const alone = await r.member();
    const aloneClient = new Client(r, alone, tor, 0);
    await seed([aloneClient]);
    const first = await r.settle();
    expect(first.bonusPaid).toEqual([alone.id]);
    const firstPaid = bonusOf(alone.id);
    expect(await firstPaid).toBeCloseTo(5.6028, 3);
    expect((await r.settle()).bonusPaid).toEqual([]); // same hour: paid already
    const crowd = await Promise.all(Array.from({ length: 6 }, () => r.member()));
    r.advance(3600);
    await seed([aloneClient, ...crowd.map((u) => new Client(r, u, tor, 0))]);
    const second = await r.settle();
    expect(second.bonusPaid.sort()).toEqual([alone, ...crowd].map((u) => u.id).sort());
    // An hour older now, the torrent weighs a little more: the formula at its age, to 1e-6.
    const expected = nexusPointsPerHour(nexus, [{ sizeBytes: 10 * 2 ** 30, ageSeconds: 4 * 7 * 86400 + 3720, seeders: 7 }]);
    expect(expected).toBeCloseTo(3.1791, 2);
    expect((await bonusOf(alone.id)) - (await firstPaid)).toBeCloseTo(expected, 6);
    expect(await bonusOf(crowd[0]?.id as number)).toBeCloseTo(expected, 6);
  });

  it('counts at most BONUS_NEXUS_MAX_SEED torrents for the per-torrent term, and pays leechers nothing', async () => {
    const seeder = await r.member();
    const leecher = await r.member();
    const torrents = await Promise.all(Array.from({ length: 10 }, () => aged(1000n, 4)));
    r.advance(3600);
    await seed(torrents.map((t) => new Client(r, seeder, t, 0)));
    const leeching = new Client(r, leecher, torrents[0] as { id: number; infoHash: string; hashBytes: Buffer }, 1000);
    await leeching.ok('started');
    r.advance(60);
    await leeching.get(10).ok();
    const report = await r.settle();
    expect(report.bonusPaid).toContain(seeder.id);
    expect(report.bonusPaid).not.toContain(leecher.id);
    expect(await bonusOf(seeder.id)).toBeCloseTo(7, 3);
    expect(await bonusOf(leecher.id)).toBe(0);
  });
});
