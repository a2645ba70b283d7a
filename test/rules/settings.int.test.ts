/**
 * Hit-and-run settings changing under open cases: the same site restarted with other settings
 * on the same database. A case keeps the requirement and grace it opened with; recovery,
 * expiry and the block limit follow the settings of the day; switching the rule off lifts its
 * blocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureOf } from '../support/tracker-client.ts';
import { Client, startRulesApp, startRulesAppOn, type RulesApp } from './support.ts';

let first: RulesApp;
let later: RulesApp | null = null;

beforeAll(async () => {
  first = await startRulesApp();
});
afterAll(async () => {
  await later?.stop();
  await first.stop();
});

async function restart(env: Record<string, string>): Promise<RulesApp> {
  await (later ?? first).t.app.stop();
  later = await startRulesAppOn(first.t.db, env, first.clock);
  return later;
}

describe('a restart with other settings', () => {
  it('keeps the requirement and grace of open cases, applies the new ones to new cases, and follows the new recovery, expiry and limit', async () => {
    const owner = await first.member();
    const user = await first.member();
    const oldTorrent = await first.torrent(owner);
    const old = new Client(first, user, oldTorrent, 1000);
    await old.ok('started');
    await old.get(1000).ok('completed');
    expect((await first.settle()).cases.map((c) => c.change)).toEqual(['OPENED']);

    const r = await restart({ HNR_MIN_SEED_SECONDS: '1200', HNR_GRACE_SECONDS: '14400', HNR_RECOVERABLE: 'false', HNR_EXPIRE_SECONDS: '3600', HNR_MAX_UNREACHED: '1' });
    // The old case still needs 600 s (and a 2 h grace).
    const seeding = new Client(r, user, oldTorrent, 0);
    await seeding.ok('started');
    await seeding.seedFor(600);
    expect((await r.settle()).cases.map((c) => c.change)).toEqual(['REACHED']);
    expect(await r.t.db.prisma.hitAndRun.findFirstOrThrow({ where: { torrentId: oldTorrent.id }, select: { requiredSeedSeconds: true, graceSeconds: true, status: true } })).toEqual({ requiredSeedSeconds: 600, graceSeconds: 7200, status: 'REACHED' });

    // A new case opens with the new requirement, fails after the new grace, and no longer recovers.
    const newTorrent = await r.torrent(owner);
    const fresh = new Client(r, user, newTorrent, 1000);
    await fresh.ok('started');
    await fresh.get(1000).ok('completed');
    await fresh.ok('stopped');
    expect((await r.settle()).cases.map((c) => c.change)).toEqual(['OPENED']);
    const row = await r.t.db.prisma.hitAndRun.findFirstOrThrow({ where: { torrentId: newTorrent.id } });
    expect({ seed: row.requiredSeedSeconds, grace: row.graceSeconds }).toEqual({ seed: 1200, grace: 14400 });
    r.advance(14399);
    expect((await r.settle()).cases.map((c) => c.change)).toEqual(['PREWARNED']);
    r.advance(1);
    const failed = await r.settle();
    expect(failed.cases.map((c) => c.change)).toEqual(['UNREACHED']);
    expect(failed.blocks).toEqual([{ userId: user.id, reason: 'HIT_AND_RUN', change: 'BLOCKED' }]);
    const unreachedAt = r.clock.now();
    expect((await r.t.db.prisma.hitAndRun.findUniqueOrThrow({ where: { id: row.id } })).expiresAt).toEqual(new Date(unreachedAt + 3600_000));
    const leech = new Client(r, user, await r.torrent(owner), 1000);
    expect(failureOf(await leech.announce('started'))).toMatch(/^downloading is disabled: 1 unreached hit-and-runs \(limit 1\); seeding still works: pay bonus points on the site to clear them$/);
    await fresh.ok('started');
    await fresh.seedFor(1200);
    expect((await r.settle()).cases).toEqual([]);
    expect((await r.t.db.prisma.hitAndRun.findUniqueOrThrow({ where: { id: row.id } })).status).toBe('UNREACHED');

    // An hour after it failed, the case stops counting and the block goes.
    r.advance(3600 - 1200);
    const expired = await r.settle();
    expect(expired.blocks).toEqual([{ userId: user.id, reason: 'HIT_AND_RUN', change: 'LIFTED' }]);
    await leech.ok('started');
  });

  it('turning hit-and-run off lifts the blocks it left', async () => {
    let r = later as RulesApp;
    const owner = await r.member();
    const user = await r.member();
    const c = new Client(r, user, await r.torrent(owner), 1000);
    await c.ok('started');
    await c.get(1000).ok('completed');
    await c.ok('stopped');
    await r.settle();
    r.advance(14400);
    expect((await r.settle()).blocks).toEqual([{ userId: user.id, reason: 'HIT_AND_RUN', change: 'BLOCKED' }]);
    r = await restart({ HNR_ENABLED: 'false' });
    const leech = new Client(r, user, await r.torrent(owner), 1000);
    expect(failureOf(await leech.announce('started'))).toMatch(/^downloading is disabled/);
    expect((await r.settle()).blocks).toEqual([{ userId: user.id, reason: 'HIT_AND_RUN', change: 'LIFTED' }]);
    await leech.ok('started');
  });
});
