import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BonusTransactionsDocument,
  CategoriesDocument,
  CreateCategoryDocument,
  CreateInviteDocument,
  FunEntriesDocument,
  FunEntryDocument,
  GiftBonusDocument,
  MyInvitesDocument,
  NewsDocument,
  PostFunDocument,
  PostNewsDocument,
  SetFunStatusDocument,
  SiteStatsDocument,
  ThankTorrentDocument,
  TorrentDocument,
  VoteFunDocument,
} from '../generated/graphql.ts';
import { aTorrent } from '../support/factories.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, codes, gql, startGraphQLApp, type Member } from './support.ts';

let t: TestApp;
let uploader: Member;
let fan: Member;
let mod: Member;
let admin: Member;
let torrentId: number;

beforeAll(async () => {
  t = await startGraphQLApp();
  uploader = await aMember(t, { role: 'UPLOADER' });
  fan = await aMember(t, { bonus: 1000 });
  mod = await aMember(t, { role: 'MODERATOR' });
  admin = await aMember(t, { role: 'ADMIN' });
  torrentId = (await aTorrent(t.db, uploader.id, { name: 'gift target' })).id;
});
afterAll(async () => {
  await t.stop();
});

async function bonusOf(id: number): Promise<number> {
  return (await t.db.prisma.user.findUniqueOrThrow({ where: { id }, select: { bonus: true } })).bonus;
}

describe('community', () => {
  describe('giftBonus', () => {
    it('moves the amount from the giver and credits the uploader after tax, with ledger rows', async () => {
      const giver = await aMember(t, { bonus: 500 });
      const before = await bonusOf(uploader.id);
      const r = await gql(t, GiftBonusDocument, { torrentId: String(torrentId), amount: 200 }, { token: giver.token });
      expect(r.data?.giftBonus).toEqual({ torrentId: String(torrentId), amount: 200, received: 180, balance: 300 });
      expect(await bonusOf(giver.id)).toBe(300);
      expect(await bonusOf(uploader.id)).toBe(before + 180);
      const ledger = await gql(t, BonusTransactionsDocument, {}, { token: giver.token });
      expect(ledger.data?.bonusTransactions).toEqual([{ amount: -200, kind: 'GIFT_SENT', note: `gift for torrent ${torrentId}`, torrent: { id: String(torrentId) }, counterparty: { id: String(uploader.id) } }]);
    });

    it('refuses amounts outside 50|100|200|500|1000, overdrafts, own torrents and unknown torrents', async () => {
      const poor = await aMember(t, { bonus: 60 });
      for (const amount of [49, -100, 0, 150, 10_000]) {
        expect(codes(await gql(t, GiftBonusDocument, { torrentId: String(torrentId), amount }, { token: poor.token }))).toEqual(['BAD_USER_INPUT']);
      }
      expect(codes(await gql(t, GiftBonusDocument, { torrentId: String(torrentId), amount: 100 }, { token: poor.token }))).toEqual(['BAD_USER_INPUT']);
      expect(await bonusOf(poor.id)).toBe(60);
      const self = await aMember(t, { bonus: 1000 });
      const own = await aTorrent(t.db, self.id);
      expect(codes(await gql(t, GiftBonusDocument, { torrentId: String(own.id), amount: 50 }, { token: self.token }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t, GiftBonusDocument, { torrentId: '999999', amount: 50 }, { token: self.token }))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(t, GiftBonusDocument, { torrentId: String(torrentId), amount: 50 }))).toEqual(['UNAUTHORIZED']);
    });

    it('never overdraws under concurrency: 20 gifts of 100 from 1000 → exactly 10 succeed', async () => {
      const total = async () => (await t.db.prisma.user.aggregate({ _sum: { bonus: true } }))._sum.bonus ?? 0;
      const tax = (await total()) ;
      const results = await Promise.all(Array.from({ length: 20 }, () => gql(t, GiftBonusDocument, { torrentId: String(torrentId), amount: 100 }, { token: fan.token })));
      const ok = results.filter((r) => r.data?.giftBonus);
      const refused = results.filter((r) => codes(r)[0] === 'BAD_USER_INPUT');
      expect(ok).toHaveLength(10);
      expect(refused).toHaveLength(10);
      expect(await bonusOf(fan.id)).toBe(0);
      // Conserved except for the tax withheld on each of the 10 gifts.
      expect(Math.round((tax - (await total())) * 100) / 100).toBe(100);
      expect(await t.db.prisma.bonusTransaction.count({ where: { userId: fan.id, kind: 'GIFT_SENT' } })).toBe(10);
    });
  });

  describe('thankTorrent', () => {
    it('thanks once per user and torrent, never one\'s own', async () => {
      const u = await aMember(t);
      expect((await gql(t, ThankTorrentDocument, { torrentId: String(torrentId) }, { token: u.token })).data?.thankTorrent).toBe(true);
      expect(codes(await gql(t, ThankTorrentDocument, { torrentId: String(torrentId) }, { token: u.token }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t, ThankTorrentDocument, { torrentId: String(torrentId) }, { token: uploader.token }))).toEqual(['BAD_USER_INPUT']);
      const seen = await gql(t, TorrentDocument, { id: String(torrentId) }, { token: u.token });
      expect(seen.data?.torrent).toMatchObject({ thanksCount: 1, thankedByMe: true });
    });
  });

  describe('fun box', () => {
    it('posts, views the latest, lists with search, votes once, and applies moderator status rules', async () => {
      const a = await gql(t, PostFunDocument, { input: { title: 'Cat 100% on keyboard', body: 'meow' } }, { token: fan.token });
      const b = await gql(t, PostFunDocument, { input: { title: 'Dull joke', body: 'keyboard again' } }, { token: fan.token });
      const aId = a.data?.postFun.id ?? '';
      const bId = b.data?.postFun.id ?? '';
      expect((await gql(t, FunEntryDocument, {}, { token: mod.token })).data?.funEntry?.id).toBe(bId);
      expect((await gql(t, SetFunStatusDocument, { id: bId, status: 'DULL' }, { token: fan.token })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      await gql(t, SetFunStatusDocument, { id: bId, status: 'DULL' }, { token: mod.token });
      // The latest visible entry skips DULL; by id it is NOT_FOUND; the list still shows it.
      expect((await gql(t, FunEntryDocument, {}, { token: fan.token })).data?.funEntry?.id).toBe(aId);
      expect(codes(await gql(t, FunEntryDocument, { id: bId }, { token: fan.token }))).toEqual(['NOT_FOUND']);
      const list = await gql(t, FunEntriesDocument, { search: 'keyboard', field: 'BOTH' }, { token: fan.token });
      expect(list.data?.funEntries.map((e) => e.id)).toEqual([bId, aId]);
      expect(list.data?.funEntriesPage).toEqual({ totalCount: 2, page: 0, limit: 10 });
      expect((await gql(t, FunEntriesDocument, { search: 'keyboard', field: 'TITLE' }, { token: fan.token })).data?.funEntries.map((e) => e.id)).toEqual([aId]);
      expect((await gql(t, FunEntriesDocument, { search: '%', field: 'TITLE' }, { token: fan.token })).data?.funEntries.map((e) => e.id)).toEqual([aId]);
      await gql(t, SetFunStatusDocument, { id: bId, status: 'BANNED' }, { token: mod.token });
      expect((await gql(t, FunEntriesDocument, { search: 'keyboard', field: 'BOTH' }, { token: fan.token })).data?.funEntries.map((e) => e.id)).toEqual([aId]);
      expect((await gql(t, VoteFunDocument, { id: aId, funny: true }, { token: mod.token })).data?.voteFun).toBe(true);
      expect(codes(await gql(t, VoteFunDocument, { id: aId, funny: false }, { token: mod.token }))).toEqual(['BAD_USER_INPUT']);
      await gql(t, VoteFunDocument, { id: aId, funny: false }, { token: uploader.token });
      expect((await gql(t, FunEntryDocument, { id: aId }, { token: fan.token })).data?.funEntry?.votes).toEqual({ total: 2, funny: 1 });
      expect(codes(await gql(t, FunEntriesDocument, { limit: 51 }, { token: fan.token }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t, PostFunDocument, { input: { title: ' ', body: 'x' } }, { token: fan.token }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('news', () => {
    it('is posted by admins and read by everyone', async () => {
      expect(codes(await gql(t, PostNewsDocument, { input: { title: 'Hi', body: 'There' } }, { token: mod.token }))).toEqual(['FORBIDDEN']);
      expect((await gql(t, PostNewsDocument, { input: { title: 'Hi', body: 'There' } }, { token: admin.token })).data?.postNews.title).toBe('Hi');
      const r = await gql(t, NewsDocument, {});
      expect(r.data?.news[0]).toMatchObject({ title: 'Hi', body: 'There' });
    });
  });

  describe('invites and categories', () => {
    it('creates and lists own invites, at most 5 open for users', async () => {
      const u = await aMember(t);
      for (let i = 0; i < 5; i++) expect((await gql(t, CreateInviteDocument, {}, { token: u.token })).data?.createInvite.code).toMatch(/^[0-9a-f]{32}$/);
      expect(codes(await gql(t, CreateInviteDocument, {}, { token: u.token }))).toEqual(['BAD_USER_INPUT']);
      expect((await gql(t, MyInvitesDocument, {}, { token: u.token })).data?.myInvites).toHaveLength(5);
      expect((await gql(t, MyInvitesDocument, {}, { token: fan.token })).data?.myInvites).toHaveLength(0);
    });

    it('lets admins create categories and everyone list them', async () => {
      expect(codes(await gql(t, CreateCategoryDocument, { input: { slug: 'tv', name: 'TV' } }, { token: mod.token }))).toEqual(['FORBIDDEN']);
      expect((await gql(t, CreateCategoryDocument, { input: { slug: 'tv', name: 'TV' } }, { token: admin.token })).data?.createCategory.slug).toBe('tv');
      expect(codes(await gql(t, CreateCategoryDocument, { input: { slug: 'Bad Slug', name: 'x' } }, { token: admin.token }))).toEqual(['BAD_USER_INPUT']);
      expect((await gql(t, CategoriesDocument, {})).data?.categories.map((c) => c.slug)).toContain('tv');
    });
  });

  describe('siteStats', () => {
    it('counts users, torrents and live peers', async () => {
      const r = await gql(t, SiteStatsDocument, {});
      expect(r.data?.siteStats).toMatchObject({ users: await t.db.prisma.user.count(), torrents: await t.db.prisma.torrent.count(), peers: 0, seeders: 0, leechers: 0, totalUploaded: '0' });
    });
  });
});
