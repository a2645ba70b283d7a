/**
 * Hit-and-run over real HTTP announces, the accounting flush and the rules tick, on an injected
 * clock with short settings (support.ts): each transition of API.md §8, the leech block at the
 * tracker, paying and pardoning over GraphQL, and what is pushed to the user's subscription.
 */
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { liveOf } from '../../src/live/live.ts';
import { rulesOf } from '../../src/rules/engine.ts';
import { DeleteTorrentDocument, MyRulesDocument, PardonHitAndRunDocument, PayHitAndRunDocument, StaffHitAndRunsDocument, UserHitAndRunsDocument } from '../generated/graphql.ts';
import { codes, gql } from '../graphql/support.ts';
import { failureOf } from '../support/tracker-client.ts';
import { Client, startRulesApp, type RulesApp } from './support.ts';

let r: RulesApp;

beforeAll(async () => {
  r = await startRulesApp();
});
afterAll(async () => {
  await r.stop();
});

async function casesOf(u: { token: string }) {
  const res = await gql(r.t, MyRulesDocument, {}, { token: u.token });
  if (!res.data) throw new Error(`me: ${JSON.stringify(res.errors)}`);
  return res.data.me;
}

/** A user who downloaded the whole of a fresh torrent (opening a case) and is still in its swarm. */
async function downloaded(opts: { promotion?: 'FREE' } = {}) {
  const owner = await r.member();
  const user = await r.member({ bonus: 1000 });
  const tor = await r.torrent(owner, opts);
  const c = new Client(r, user, tor, 1000);
  await c.ok('started');
  r.advance(30);
  await c.get(1000).ok('completed');
  const report = await r.settle();
  const opened = report.cases.filter((x) => x.userId === user.id);
  expect(opened.map((x) => x.change)).toEqual(['OPENED']);
  return { owner, user, tor, c, caseId: opened[0]?.id as number };
}

describe('opening a case', () => {
  it('opens on raw bytes at HNR_TRIGGER_FRACTION of the size, with the requirement fixed on the case', async () => {
    const owner = await r.member();
    const user = await r.member();
    const tor = await r.torrent(owner);
    const c = new Client(r, user, tor, 1000);
    await c.ok('started');
    r.advance(10);
    await c.get(50).ok();
    expect((await r.settle()).cases).toEqual([]);
    r.advance(10);
    await c.get(60).ok();
    const report = await r.settle();
    expect(report.cases).toEqual([{ id: expect.any(Number) as number, userId: user.id, torrentId: tor.id, change: 'OPENED' }]);
    const me = await casesOf(user);
    expect(me.hitAndRunCounts).toEqual({ inspecting: 1, unreached: 0, limit: 3 });
    expect(me.hitAndRuns).toEqual([
      expect.objectContaining({ status: 'INSPECTING', openedAt: new Date(r.clock.now()).toISOString(), seedSeconds: 0, requiredSeedSeconds: 600, seedSecondsLeft: 600, requiredRatio: 1, requiredUploaded: '1000', graceSeconds: 7200, prewarnedAt: null, resolution: null, torrent: { id: String(tor.id), name: expect.any(String) as string } }),
    ]);
    // A tick later opens nothing more.
    expect((await r.settle()).cases).toEqual([]);
  });

  it('free leech still opens a case: the raw bytes count, the credited ones do not', async () => {
    const { user } = await downloaded({ promotion: 'FREE' });
    const me = await casesOf(user);
    expect(me.downloaded).toBe('0');
    expect(me.hitAndRunCounts.inspecting).toBe(1);
  });

  it('never opens one for the uploader; an exempt role gets the case closed as EXEMPT; a role gained later changes nothing', async () => {
    const owner = await r.member();
    const tor = await r.torrent(owner);
    const own = new Client(r, owner, tor, 1000);
    await own.ok('started');
    await own.get(1000).ok('completed');
    const mod = await r.member({ role: 'MODERATOR' });
    const m = new Client(r, mod, tor, 1000);
    await m.ok('started');
    await m.get(1000).ok('completed');
    const user = await r.member();
    const u = new Client(r, user, tor, 1000);
    await u.ok('started');
    await u.get(1000).ok('completed');
    const report = await r.settle();
    expect(report.cases.map((c) => [c.userId, c.change])).toEqual([[user.id, 'OPENED']]);
    expect(await r.t.db.prisma.hitAndRun.findMany({ where: { torrentId: tor.id }, select: { userId: true, status: true, resolution: true }, orderBy: { userId: 'asc' } })).toEqual([
      { userId: mod.id, status: 'REACHED', resolution: 'EXEMPT' },
      { userId: user.id, status: 'INSPECTING', resolution: null },
    ]);
    await r.t.db.prisma.user.update({ where: { id: user.id }, data: { role: 'UPLOADER' } });
    await r.settle();
    expect(await r.t.db.prisma.hitAndRun.count({ where: { userId: user.id, status: 'INSPECTING' } })).toBe(1);
  });
});

describe('reaching a case', () => {
  it('seeding HNR_MIN_SEED_SECONDS in all reaches it (SEED_TIME); leaving afterwards changes nothing', async () => {
    const { user, c, caseId } = await downloaded();
    await c.seedFor(540);
    expect((await r.settle()).cases.filter((x) => x.id === caseId)).toEqual([]);
    expect((await casesOf(user)).hitAndRuns[0]).toMatchObject({ seedSeconds: 540, seedSecondsLeft: 60 });
    await c.seedFor(60);
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['REACHED']);
    await c.ok('stopped');
    r.advance(8000);
    await r.settle();
    expect((await casesOf(user)).hitAndRuns[0]).toMatchObject({ status: 'REACHED', resolution: 'SEED_TIME', seedSeconds: 600 });
  });

  it('uploading HNR_RATIO_EXEMPT × size (raw) reaches it (RATIO) without seeding time', async () => {
    const { user, tor, c, caseId } = await downloaded();
    // Someone to upload to: upload with no other leecher in the swarm is not credited.
    const other = new Client(r, await r.member(), tor, 1000);
    await other.ok('started');
    r.advance(10);
    await c.put(1000).ok();
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['REACHED']);
    expect((await casesOf(user)).hitAndRuns[0]).toMatchObject({ status: 'REACHED', resolution: 'RATIO', uploaded: '1000', seedSeconds: 10 });
  });
});

describe('absence', () => {
  it('warns after HNR_PREWARN_SECONDS away from the swarm and fails after HNR_GRACE_SECONDS, pushing both to myRules', async () => {
    const { user, c, caseId } = await downloaded();
    const ws = createClient({ url: `${r.t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { token: user.token }, retryAttempts: 0 });
    const pushed: Array<{ change: string; hitAndRun: { id: string; status: string; prewarnedAt: string | null } | null; counts: { unreached: number } }> = [];
    const dispose = ws.subscribe<{ myRules: (typeof pushed)[number] }>(
      { query: 'subscription { myRules { change hitAndRun { id status prewarnedAt } counts { unreached } } }' },
      { next: (v) => v.data && pushed.push(v.data.myRules), error: () => undefined, complete: () => undefined },
    );
    await vi.waitFor(() => expect(rulesLiveSubscribers(user.id)).toBe(1));
    await c.seedFor(120);
    await c.ok('stopped');
    await r.settle();
    const left = r.clock.now();
    expect((await casesOf(user)).hitAndRuns[0]?.graceEndsAt).toBe(new Date(left + 7200_000).toISOString());
    r.advance(3599);
    expect((await r.settle()).cases.filter((x) => x.id === caseId)).toEqual([]);
    r.advance(1);
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['PREWARNED']);
    expect((await casesOf(user)).hitAndRuns[0]).toMatchObject({ status: 'INSPECTING', prewarnedAt: new Date(left + 3600_000).toISOString() });
    r.advance(3600);
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['UNREACHED']);
    const me = await casesOf(user);
    expect(me.hitAndRunCounts).toMatchObject({ inspecting: 0, unreached: 1 });
    expect(me.hitAndRuns[0]).toMatchObject({ status: 'UNREACHED', unreachedAt: new Date(left + 7200_000).toISOString(), graceEndsAt: null });
    await vi.waitFor(() => expect(pushed.map((p) => p.change)).toEqual(['CASE_PREWARNED', 'CASE_UNREACHED']));
    expect(pushed[1]).toEqual({ change: 'CASE_UNREACHED', hitAndRun: { id: String(caseId), status: 'UNREACHED', prewarnedAt: expect.any(String) as string }, counts: { unreached: 1 } });
    dispose();
    await ws.dispose();
  });

  it('a user still in the swarm is never warned or failed, seeding or stuck leeching, even when their announces were not flushed yet', async () => {
    const owner = await r.member();
    const tor = await r.torrent(owner);
    const stuck = new Client(r, await r.member(), tor, 1000);
    await stuck.ok('started');
    await stuck.get(500).ok();
    const seeder = new Client(r, await r.member(), tor, 1000);
    await seeder.ok('started');
    await seeder.get(1000).ok('completed');
    const opened = (await r.settle()).cases.map((x) => x.id);
    expect(opened).toHaveLength(2);
    for (let s = 0; s < 7300; s += 60) {
      r.advance(60);
      await stuck.ok();
      await seeder.ok();
    }
    // No flush: the snatches say both were last seen 2 h ago, past the grace; the swarm says they are here.
    await rulesOf(r.t.app.ctx).tick();
    const statuses = () => r.t.db.prisma.hitAndRun.findMany({ where: { id: { in: opened } }, select: { userId: true, status: true, prewarnedAt: true }, orderBy: { userId: 'asc' } });
    expect(await statuses()).toEqual([
      { userId: stuck.user.id, status: 'INSPECTING', prewarnedAt: null },
      { userId: seeder.user.id, status: 'INSPECTING', prewarnedAt: null },
    ]);
    await r.settle();
    expect((await statuses()).map((x) => x.status)).toEqual(['INSPECTING', 'REACHED']);
  });

  it('a warning is taken back when the user returns, so the next absence is warned again before it fails', async () => {
    const { c, caseId } = await downloaded();
    await c.ok('stopped');
    r.advance(3600);
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['PREWARNED']);
    r.advance(60);
    await c.ok('started');
    await c.ok('stopped');
    await r.settle();
    expect((await r.t.db.prisma.hitAndRun.findUniqueOrThrow({ where: { id: caseId } })).prewarnedAt).toBeNull();
    r.advance(3600);
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['PREWARNED']);
  });

  it('seeding later recovers an UNREACHED case (HNR_RECOVERABLE)', async () => {
    const { user, c, caseId } = await downloaded();
    await c.ok('stopped');
    r.advance(7200);
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['PREWARNED', 'UNREACHED']);
    await c.ok('started');
    await c.seedFor(600);
    expect((await r.settle()).cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['REACHED']);
    expect((await casesOf(user)).hitAndRuns[0]).toMatchObject({ status: 'REACHED', resolution: 'SEED_TIME', unreachedAt: expect.any(String) as string });
  });
});

describe('the leech block', () => {
  it(`refuses leeching at HNR_MAX_UNREACHED unreached cases naming the count, never seeding; clearing one lifts it at once`, async () => {
    const owner = await r.member();
    const user = await r.member({ bonus: 150 });
    const clients: Client[] = [];
    for (let i = 0; i < 3; i++) {
      const c = new Client(r, user, await r.torrent(owner), 1000);
      await c.ok('started');
      await c.get(1000).ok('completed');
      await c.ok('stopped');
      clients.push(c);
    }
    await r.settle();
    r.advance(7200);
    const report = await r.settle();
    expect(report.blocks).toEqual([{ userId: user.id, reason: 'HIT_AND_RUN', change: 'BLOCKED' }]);
    const next = new Client(r, user, await r.torrent(owner), 1000);
    const refused = failureOf(await next.announce('started'));
    expect(refused).toBe('downloading is disabled: 3 unreached hit-and-runs (limit 3); seeding still works: seed them to their requirement or pay bonus points on the site to clear them');
    expect((await casesOf(user)).leechBlocks).toEqual([{ reason: 'HIT_AND_RUN', message: refused, since: new Date(r.clock.now()).toISOString() }]);
    // Seeding is never refused, and it accrues.
    const seeding = clients[0] as Client;
    await seeding.ok('started');
    await seeding.seedFor(120);
    await r.settle();
    expect((await r.t.db.prisma.snatch.findFirstOrThrow({ where: { userId: user.id, torrentId: seeding.torrent.id } })).seedTime).toBe(120n);
    // A stopped announce with left > 0 is not refused either (the client is leaving).
    expect(failureOf(await next.announce('stopped'))).toBeUndefined();
    // Paying for one case: below the limit, leeching works again without waiting for a tick.
    const caseId = (await casesOf(user)).hitAndRuns.find((h) => h.status === 'UNREACHED')?.id as string;
    const paid = await gql(r.t, PayHitAndRunDocument, { id: caseId }, { token: user.token });
    expect(paid.data?.payHitAndRun).toMatchObject({ status: 'PARDONED', resolution: 'PAID' });
    await next.ok('started');
    expect((await casesOf(user)).leechBlocks).toEqual([]);
  });

  it('staff revocation and a rule block are separate: lifting one leaves the other', async () => {
    const user = await r.member();
    await r.t.db.prisma.leechBlock.create({ data: { userId: user.id, reason: 'HIT_AND_RUN', message: 'downloading is disabled: rule', createdAt: new Date(r.clock.now()) } });
    await r.t.db.prisma.user.update({ where: { id: user.id }, data: { canLeech: false } });
    await r.t.app.ctx.users.reload(user.id);
    const tor = await r.torrent(await r.member());
    const c = new Client(r, user, tor, 1000);
    expect(failureOf(await c.announce('started'))).toBe('downloading is disabled for your account: contact the staff; downloading is disabled: rule');
    await r.settle(); // the tick lifts the rule's block (no unreached cases)
    expect(failureOf(await c.announce('started'))).toBe('downloading is disabled for your account: contact the staff');
    await r.t.db.prisma.user.update({ where: { id: user.id }, data: { canLeech: true } });
    await r.t.app.ctx.users.reload(user.id);
    await c.ok('started');
  });
});

describe('paying and pardoning', () => {
  it('pays with enough bonus (one transaction), refuses without (nothing changes), and refuses closed or foreign cases', async () => {
    const { user, caseId } = await downloaded();
    const poor = await downloaded();
    await r.t.db.prisma.user.update({ where: { id: poor.user.id }, data: { bonus: 99.5 } });
    const broke = await gql(r.t, PayHitAndRunDocument, { id: String(poor.caseId) }, { token: poor.user.token });
    expect([codes(broke), broke.errors?.[0]?.message]).toEqual([['BAD_USER_INPUT'], 'not enough bonus points: clearing a hit-and-run costs 100']);
    expect(await r.t.db.prisma.hitAndRun.findUniqueOrThrow({ where: { id: poor.caseId }, select: { status: true } })).toEqual({ status: 'INSPECTING' });
    expect((await casesOf(poor.user)).bonus).toBe(99.5);
    expect(await r.t.db.prisma.bonusTransaction.count({ where: { userId: poor.user.id } })).toBe(0);

    const foreign = await gql(r.t, PayHitAndRunDocument, { id: String(caseId) }, { token: poor.user.token });
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    const paid = await gql(r.t, PayHitAndRunDocument, { id: String(caseId) }, { token: user.token });
    expect(paid.data?.payHitAndRun).toEqual({ id: String(caseId), status: 'PARDONED', resolution: 'PAID', resolvedAt: new Date(r.clock.now()).toISOString() });
    expect((await casesOf(user)).bonus).toBe(900);
    expect(await r.t.db.prisma.bonusTransaction.findMany({ where: { userId: user.id }, select: { amount: true, kind: true, note: true } })).toEqual([{ amount: -100, kind: 'SHOP', note: `hit-and-run #${caseId} cleared` }]);
    const again = await gql(r.t, PayHitAndRunDocument, { id: String(caseId) }, { token: user.token });
    expect([codes(again), again.errors?.[0]?.message]).toEqual([['BAD_USER_INPUT'], 'this hit-and-run is pardoned: only inspecting or unreached ones can be cleared']);
    expect((await casesOf(user)).bonus).toBe(900);
    const bad = await gql(r.t, PayHitAndRunDocument, { id: 'x' }, { token: user.token });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
  });

  it('concurrent payments for one case charge once', async () => {
    const { user, caseId } = await downloaded();
    const results = await Promise.all(Array.from({ length: 5 }, () => gql(r.t, PayHitAndRunDocument, { id: String(caseId) }, { token: user.token })));
    expect(results.filter((x) => x.errors === undefined)).toHaveLength(1);
    expect((await casesOf(user)).bonus).toBe(900);
    expect(await r.t.db.prisma.bonusTransaction.count({ where: { userId: user.id } })).toBe(1);
  });

  it('staff pardon an open case; users may not, nor see other users\' cases', async () => {
    const { user, caseId } = await downloaded();
    const mod = await r.member({ role: 'MODERATOR' });
    const other = await r.member();
    expect(codes(await gql(r.t, PardonHitAndRunDocument, { id: String(caseId) }, { token: user.token }))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(r.t, StaffHitAndRunsDocument, { userId: String(user.id) }, { token: other.token }))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(r.t, UserHitAndRunsDocument, { id: String(user.id) }, { token: other.token }))).toEqual(['FORBIDDEN']);
    const staffView = await gql(r.t, StaffHitAndRunsDocument, { userId: String(user.id) }, { token: mod.token });
    expect(staffView.data?.hitAndRuns).toEqual([{ id: String(caseId), status: 'INSPECTING', resolution: null, user: { id: String(user.id), username: expect.any(String) as string }, torrent: { id: expect.any(String) as string } }]);
    const pardoned = await gql(r.t, PardonHitAndRunDocument, { id: String(caseId) }, { token: mod.token });
    expect(pardoned.data?.pardonHitAndRun).toEqual({ id: String(caseId), status: 'PARDONED', resolution: 'STAFF' });
    expect(codes(await gql(r.t, PardonHitAndRunDocument, { id: String(caseId) }, { token: mod.token }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(r.t, PardonHitAndRunDocument, { id: '99999999' }, { token: mod.token }))).toEqual(['NOT_FOUND']);
    expect((await gql(r.t, UserHitAndRunsDocument, { id: String(user.id) }, { token: mod.token })).data?.user.hitAndRunCounts).toEqual({ inspecting: 0, unreached: 0, limit: 3 });
  });

  it('deleting the torrent pardons its open cases', async () => {
    const { owner, user, tor, caseId } = await downloaded();
    const ownerToken = owner.token;
    expect((await gql(r.t, DeleteTorrentDocument, { id: String(tor.id) }, { token: ownerToken })).errors).toBeUndefined();
    const report = await r.settle();
    expect(report.cases.filter((x) => x.id === caseId).map((x) => x.change)).toEqual(['PARDONED']);
    expect((await casesOf(user)).hitAndRuns[0]).toMatchObject({ status: 'PARDONED', resolution: 'TORRENT_DELETED' });
  });
});

describe('metrics', () => {
  it('counts case changes, blocks and refused announces', async () => {
    const text = await (await fetch(`${r.t.url}/metrics`)).text();
    expect(text).toMatch(/rules_hit_and_run_changes_total\{change="opened"\} [1-9]/);
    expect(text).toMatch(/rules_hit_and_run_changes_total\{change="unreached"\} [1-9]/);
    expect(text).toMatch(/rules_leech_blocks_total\{reason="hit_and_run",change="blocked"\} [1-9]/);
    expect(text).toMatch(/tracker_leech_refused_total\{reason="hit_and_run"\} [1-9]/);
    expect(text).toMatch(/tracker_leech_refused_total\{reason="staff"\} [1-9]/);
  });
});

/** Subscribers of the user's rules events (a subscription is listening once this is 1). */
function rulesLiveSubscribers(userId: number): number {
  return liveOf(r.t.app.ctx).pubsub.subscribers('user:rules', String(userId));
}
