/**
 * The bonus shop and staff grants over GraphQL: the configured catalogue, each kind of
 * purchase as one bonus transaction, refusals that change nothing, concurrent purchases that
 * never overspend, and personal free leech applied by the tracker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BonusShopDocument, BuyShopItemDocument, GrantBonusDocument, MyRulesDocument } from '../generated/graphql.ts';
import { codes, gql } from '../graphql/support.ts';
import { Client, startRulesApp, type RulesApp } from './support.ts';

let r: RulesApp;
const GiB = 2 ** 30;

beforeAll(async () => {
  r = await startRulesApp({ SHOP_UPLOAD_OFFERS: '1:100,10:900', SHOP_INVITE_PRICE: '500', SHOP_FREELEECH_PRICE: '300', SHOP_FREELEECH_HOURS: '24', HNR_PARDON_PRICE: '100' });
});
afterAll(async () => {
  await r.stop();
});

async function me(token: string) {
  const res = await gql(r.t, MyRulesDocument, {}, { token });
  if (!res.data) throw new Error(`me: ${JSON.stringify(res.errors)}`);
  return res.data.me;
}
const ledger = (userId: number) => r.t.db.prisma.bonusTransaction.findMany({ where: { userId }, select: { amount: true, kind: true, note: true, counterpartyId: true }, orderBy: { id: 'asc' } });

describe('bonusShop', () => {
  it('lists what the configuration sells', async () => {
    const u = await r.member();
    const shop = await gql(r.t, BonusShopDocument, {}, { token: u.token });
    expect(shop.data?.bonusShop).toEqual([
      { id: 'upload-1gib', kind: 'UPLOAD_CREDIT', price: 100, amount: String(GiB), description: '1 GiB of upload credit' },
      { id: 'upload-10gib', kind: 'UPLOAD_CREDIT', price: 900, amount: String(10 * GiB), description: '10 GiB of upload credit' },
      { id: 'invite', kind: 'INVITE', price: 500, amount: '1', description: 'an invite, valid for 7 days' },
      { id: 'hit-and-run-pardon', kind: 'HIT_AND_RUN_PARDON', price: 100, amount: '1', description: 'clears one inspecting or unreached hit-and-run' },
      { id: 'freeleech', kind: 'FREELEECH', price: 300, amount: String(24 * 3600), description: '24 h of personal free leech: none of your download counts (extends one still running)' },
    ]);
    expect(codes(await gql(r.t, BonusShopDocument, {}))).toEqual(['UNAUTHORIZED']);
  });
});

describe('buyShopItem', () => {
  it('upload credit: uploaded grows, bonus falls, one ledger row', async () => {
    const u = await r.member({ bonus: 150 });
    const bought = await gql(r.t, BuyShopItemDocument, { id: 'upload-1gib' }, { token: u.token });
    expect(bought.data?.buyShopItem).toEqual({ item: { id: 'upload-1gib', kind: 'UPLOAD_CREDIT', price: 100, amount: String(GiB) }, balance: 50, inviteCode: null, freeleechUntil: null, hitAndRun: null });
    expect(await me(u.token)).toMatchObject({ uploaded: String(GiB), bonus: 50 });
    expect(await ledger(u.id)).toEqual([{ amount: -100, kind: 'SHOP', note: 'shop: 1 GiB of upload credit', counterpartyId: null }]);
  });

  it('refuses without enough bonus and changes nothing', async () => {
    const u = await r.member({ bonus: 99 });
    const refused = await gql(r.t, BuyShopItemDocument, { id: 'upload-1gib' }, { token: u.token });
    expect([codes(refused), refused.errors?.[0]?.message]).toEqual([['BAD_USER_INPUT'], 'not enough bonus points: 1 GiB of upload credit costs 100']);
    expect(await me(u.token)).toMatchObject({ uploaded: '0', bonus: 99 });
    expect(await ledger(u.id)).toEqual([]);
  });

  it('never overspends under concurrent purchases', async () => {
    const u = await r.member({ bonus: 250 });
    const results = await Promise.all(Array.from({ length: 8 }, () => gql(r.t, BuyShopItemDocument, { id: 'upload-1gib' }, { token: u.token })));
    expect(results.filter((x) => x.errors === undefined)).toHaveLength(2);
    expect(results.filter((x) => x.errors !== undefined).map(codes)).toEqual(Array.from({ length: 6 }, () => ['BAD_USER_INPUT']));
    expect(await me(u.token)).toMatchObject({ uploaded: String(2 * GiB), bonus: 50 });
    expect(await ledger(u.id)).toHaveLength(2);
  });

  it('an invite: the code is the buyer\'s, valid for 7 days', async () => {
    const u = await r.member({ bonus: 500 });
    const bought = await gql(r.t, BuyShopItemDocument, { id: 'invite' }, { token: u.token });
    const code = bought.data?.buyShopItem.inviteCode as string;
    expect(code).toMatch(/^[0-9a-f]{32}$/);
    expect(await r.t.db.prisma.invite.findUniqueOrThrow({ where: { code }, select: { inviterId: true, expiresAt: true, usedAt: true } })).toEqual({ inviterId: u.id, expiresAt: new Date(r.clock.now() + 7 * 86400_000), usedAt: null });
    expect(bought.data?.buyShopItem.balance).toBe(0);
  });

  it('bad requests: an unknown item, a case with another item, a pardon without its case', async () => {
    const u = await r.member({ bonus: 1000 });
    const unknown = await gql(r.t, BuyShopItemDocument, { id: 'yacht' }, { token: u.token });
    expect([codes(unknown), unknown.errors?.[0]?.message]).toEqual([['NOT_FOUND'], 'no shop item yacht']);
    expect(codes(await gql(r.t, BuyShopItemDocument, { id: 'invite', hitAndRunId: '1' }, { token: u.token }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(r.t, BuyShopItemDocument, { id: 'hit-and-run-pardon' }, { token: u.token }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(r.t, BuyShopItemDocument, { id: 'hit-and-run-pardon', hitAndRunId: 'abc' }, { token: u.token }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(r.t, BuyShopItemDocument, { id: 'hit-and-run-pardon', hitAndRunId: '99999999' }, { token: u.token }))).toEqual(['NOT_FOUND']);
    expect((await me(u.token)).bonus).toBe(1000);
  });

  it('a hit-and-run pardon clears the named case', async () => {
    const owner = await r.member();
    const u = await r.member({ bonus: 100 });
    const c = new Client(r, u, await r.torrent(owner), 1000);
    await c.ok('started');
    await c.get(1000).ok('completed');
    const caseId = (await r.settle()).cases.find((x) => x.userId === u.id)?.id as number;
    const bought = await gql(r.t, BuyShopItemDocument, { id: 'hit-and-run-pardon', hitAndRunId: String(caseId) }, { token: u.token });
    expect(bought.data?.buyShopItem).toMatchObject({ balance: 0, hitAndRun: { id: String(caseId), status: 'PARDONED', resolution: 'PAID' } });
  });
});

describe('personal free leech', () => {
  it('the tracker counts none of the buyer\'s download until it ends; a second purchase extends it', async () => {
    const owner = await r.member();
    const u = await r.member({ bonus: 600 });
    const bought = await gql(r.t, BuyShopItemDocument, { id: 'freeleech' }, { token: u.token });
    const until = r.clock.now() + 24 * 3600_000;
    expect(bought.data?.buyShopItem).toMatchObject({ balance: 300, freeleechUntil: new Date(until).toISOString() });
    expect((await me(u.token)).freeleechUntil).toBe(new Date(until).toISOString());
    const c = new Client(r, u, await r.torrent(owner, { size: 10_000_000n }), 10_000_000);
    await c.ok('started');
    r.advance(60);
    await c.get(1000).ok();
    await r.settle();
    expect((await me(u.token)).downloaded).toBe('0');
    r.clock.set(until + 1000);
    await c.get(1000).ok();
    await r.settle();
    expect((await me(u.token)).downloaded).toBe('1000');
    expect((await me(u.token)).freeleechUntil).toBeNull();
    // Bought again after it ended: 24 h from now; bought while running: added to its end.
    await gql(r.t, BuyShopItemDocument, { id: 'freeleech' }, { token: u.token });
    expect((await me(u.token)).freeleechUntil).toBe(new Date(r.clock.now() + 24 * 3600_000).toISOString());
    await r.t.db.prisma.user.update({ where: { id: u.id }, data: { bonus: 300 } });
    await gql(r.t, BuyShopItemDocument, { id: 'freeleech' }, { token: u.token });
    expect((await me(u.token)).freeleechUntil).toBe(new Date(r.clock.now() + 48 * 3600_000).toISOString());
  });
});

describe('grantBonus', () => {
  it('staff give and take with a reason, one ledger row each; never below zero, never to themselves', async () => {
    const mod = await r.member({ role: 'MODERATOR' });
    const u = await r.member({ bonus: 10 });
    const given = await gql(r.t, GrantBonusDocument, { userId: String(u.id), amount: 50, reason: 'seeded the archive' }, { token: mod.token });
    expect(given.data?.grantBonus).toEqual({ balance: 60, transaction: { id: expect.any(String) as string, amount: 50, kind: 'ADMIN', note: 'seeded the archive', counterparty: { id: String(mod.id) } } });
    const taken = await gql(r.t, GrantBonusDocument, { userId: String(u.id), amount: -60, reason: 'spam' }, { token: mod.token });
    expect(taken.data?.grantBonus.balance).toBe(0);
    const tooMuch = await gql(r.t, GrantBonusDocument, { userId: String(u.id), amount: -1, reason: 'more' }, { token: mod.token });
    expect([codes(tooMuch), tooMuch.errors?.[0]?.message]).toEqual([['BAD_USER_INPUT'], 'the user has fewer bonus points than that']);
    for (const [amount, reason] of [[0, 'x'], [1e10, 'x'], [5, ' '], [5, 'x'.repeat(201)]] as const) {
      expect(codes(await gql(r.t, GrantBonusDocument, { userId: String(u.id), amount, reason }, { token: mod.token }))).toEqual(['BAD_USER_INPUT']);
    }
    expect(codes(await gql(r.t, GrantBonusDocument, { userId: String(mod.id), amount: 5, reason: 'me' }, { token: mod.token }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(r.t, GrantBonusDocument, { userId: '99999999', amount: 5, reason: 'nobody' }, { token: mod.token }))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(r.t, GrantBonusDocument, { userId: String(mod.id), amount: 5, reason: 'x' }, { token: u.token }))).toEqual(['FORBIDDEN']);
    expect((await ledger(u.id)).map((l) => [l.amount, l.kind])).toEqual([
      [50, 'ADMIN'],
      [-60, 'ADMIN'],
    ]);
  });
});
