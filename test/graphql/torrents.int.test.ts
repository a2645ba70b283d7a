import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTorrentDocument, SetTorrentPromotionDocument, SetTorrentTransferFactorsDocument, TorrentByInfoHashDocument, TorrentDocument, TorrentsDocument, TorrentsEdgesDocument, TorrentSnatchesDocument, UpdateTorrentDocument, type TorrentsEdgesQuery } from '../generated/graphql.ts';
import { aTorrent } from '../support/factories.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, codes, gql, startGraphQLApp, type GqlResponse, type Member } from './support.ts';

let t: TestApp;
let uploader: Member;
let reader: Member;
let mod: Member;
const ids: Record<string, number> = {};

beforeAll(async () => {
  t = await startGraphQLApp();
  uploader = await aMember(t, { role: 'UPLOADER', username: 'uploader_one' });
  reader = await aMember(t);
  mod = await aMember(t, { role: 'MODERATOR' });
  const movies = await t.db.prisma.category.create({ data: { slug: 'movies', name: 'Movies' } });
  const music = await t.db.prisma.category.create({ data: { slug: 'music', name: 'Music' } });
  const seed: Array<[string, string, bigint, number, string]> = [
    ['ubuntu', 'Ubuntu.24.04.Desktop.amd64', 6n << 30n, movies.id, 'the Linux distribution'],
    ['debian', 'Debian 12 netinst', 700n << 20n, movies.id, 'small installer, mentions ubuntu once'],
    ['album', 'Some_Band-Greatest_Hits-2020', 300n << 20n, music.id, 'FLAC'],
    ['percent', '100% pure', 5n << 20n, music.id, ''],
    ['underscore', 'a_b_c', 1n << 20n, music.id, ''],
  ];
  for (const [key, name, size, categoryId, description] of seed) {
    const tt = await aTorrent(t.db, uploader.id, { name, size });
    await t.db.prisma.torrent.update({ where: { id: tt.id }, data: { categoryId, description, seeders: size > 1n << 30n ? 5 : 1 } });
    ids[key] = tt.id;
  }
  const pending = await aTorrent(t.db, uploader.id, { name: 'pending upload', status: 'PENDING' });
  ids.pending = pending.id;
  for (const id of Object.values(ids)) await t.app.ctx.torrents.reload(id);
});
afterAll(async () => {
  await t.stop();
});

describe('torrents', () => {
  describe('torrent(id)', () => {
    it('returns the contract fields with files, tree and live swarm counts', async () => {
      const id = ids.ubuntu as number;
      const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id } });
      await t.db.prisma.torrent.update({ where: { id }, data: { files: [{ path: 'Ubuntu/disc/a.iso', size: '100' }, { path: 'Ubuntu/b.txt', size: '5' }] } });
      // Two live peers in the swarm store: one seeder, one leecher.
      const key = Buffer.from(row.infoHash, 'hex').toString('latin1');
      const now = Math.floor(Date.now() / 1000);
      for (const [i, left] of [[1, 0], [2, 10]] as const) {
        await t.app.ctx.swarm.announce(
          { infoHash: key, peerId: `-qB4630-${String(i).padStart(12, '0')}`, userId: reader.id, keyHash: i, ip: Buffer.from([10, 0, 0, i]), port: 6881, uploaded: 0, downloaded: 0, left, event: 0, now },
          { numwant: 0, peerIds: false },
        );
      }
      const r = await gql(t, TorrentDocument, { id: String(id) }, { token: reader.token });
      expect(r.errors).toBeUndefined();
      expect(r.data?.torrent).toMatchObject({
        id: String(id),
        infoHash: row.infoHash,
        name: 'Ubuntu.24.04.Desktop.amd64',
        size: String(6n << 30n),
        seeders: 1,
        leechers: 1,
        completed: 0,
        promotion: 'NONE',
        files: [
          { path: 'Ubuntu/disc/a.iso', size: '100' },
          { path: 'Ubuntu/b.txt', size: '5' },
        ],
        fileTree: { Ubuntu: { disc: { 'a.iso': 100 }, 'b.txt': 5 } },
        category: { slug: 'movies' },
        uploader: { id: String(uploader.id) },
        downloadUrl: `${t.app.ctx.config.publicUrl}/download/${id}`,
      });
      expect(r.data?.torrent.infoHash).toMatch(/^[0-9a-f]{40}$/);
    });

    it('is found by info hash, and a malformed hash is BAD_USER_INPUT', async () => {
      const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: ids.debian as number } });
      const r = await gql(t, TorrentByInfoHashDocument, { infoHash: row.infoHash.toUpperCase() }, { token: reader.token });
      expect(r.data?.torrentByInfoHash.id).toBe(String(ids.debian));
      expect(codes(await gql(t, TorrentByInfoHashDocument, { infoHash: 'xyz' }, { token: reader.token }))).toEqual(['BAD_USER_INPUT']);
    });

    it('hides pending torrents from other users, shows them to the uploader and staff', async () => {
      const id = String(ids.pending);
      expect(codes(await gql(t, TorrentDocument, { id }, { token: reader.token }))).toEqual(['NOT_FOUND']);
      expect((await gql(t, TorrentDocument, { id }, { token: uploader.token })).data?.torrent.status).toBe('PENDING');
      expect((await gql(t, TorrentDocument, { id }, { token: mod.token })).data?.torrent.status).toBe('PENDING');
    });

    it('needs a signed-in user', async () => {
      expect(codes(await gql(t, TorrentDocument, { id: String(ids.ubuntu) }))).toEqual(['UNAUTHORIZED']);
      expect(codes(await gql(t, TorrentsDocument, {}))).toEqual(['UNAUTHORIZED']);
    });

    it('answers NOT_FOUND for an unknown id', async () => {
      expect(codes(await gql(t, TorrentDocument, { id: '424242' }, { token: reader.token }))).toEqual(['NOT_FOUND']);
    });
  });

  describe('torrents(...)', () => {
    it('lists active torrents newest first with page/limit and total counts', async () => {
      const r = await gql(t, TorrentsDocument, { page: 1, limit: 2 }, { token: reader.token });
      expect(r.errors).toBeUndefined();
      expect(r.data?.torrents).toMatchObject({ totalCount: 5, page: 1, limit: 2, pageCount: 3, pageInfo: { hasNextPage: true, hasPreviousPage: false } });
      expect(r.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.underscore, ids.percent]);
      const last = await gql(t, TorrentsDocument, { page: 3, limit: 2 }, { token: reader.token });
      expect(last.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.ubuntu]);
      expect(last.data?.torrents.pageInfo.hasNextPage).toBe(false);
    });

    it('walks the same order with first/after cursors', async () => {
      const seen: number[] = [];
      let after: string | null | undefined = undefined;
      for (let i = 0; i < 5; i++) {
        const r: GqlResponse<TorrentsEdgesQuery> = await gql(t, TorrentsEdgesDocument, { first: 2, ...(after ? { after } : {}) }, { token: reader.token });
        seen.push(...(r.data?.torrents.edges.map((e) => Number(e.node.id)) ?? []));
        if (!r.data?.torrents.pageInfo.hasNextPage) break;
        after = r.data.torrents.pageInfo.endCursor;
      }
      expect(seen).toEqual([ids.underscore, ids.percent, ids.album, ids.debian, ids.ubuntu]);
    });

    it('sorts by size and seeders in both directions', async () => {
      const bySizeAsc = await gql(t, TorrentsDocument, { orderBy: 'SIZE', direction: 'ASC' }, { token: reader.token });
      expect(bySizeAsc.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.underscore, ids.percent, ids.album, ids.debian, ids.ubuntu]);
      const bySizeDesc = await gql(t, TorrentsDocument, { orderBy: 'SIZE', direction: 'DESC' }, { token: reader.token });
      expect(bySizeDesc.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.ubuntu, ids.debian, ids.album, ids.percent, ids.underscore]);
      const bySeeders = await gql(t, TorrentsDocument, { orderBy: 'SEEDERS', direction: 'DESC', limit: 1 }, { token: reader.token });
      expect(bySeeders.data?.torrents.nodes[0]?.id).toBe(String(ids.ubuntu));
    });

    it('filters by category slug', async () => {
      const r = await gql(t, TorrentsDocument, { category: 'music' }, { token: reader.token });
      expect(r.data?.torrents.totalCount).toBe(3);
      expect(r.data?.torrents.nodes.every((n) => n.category?.slug === 'music')).toBe(true);
      expect((await gql(t, TorrentsDocument, { category: 'nope' }, { token: reader.token })).data?.torrents.totalCount).toBe(0);
    });

    it('searches names (scene separators as spaces, prefixes) and ranks name matches above description matches', async () => {
      const r = await gql(t, TorrentsDocument, { search: 'ubuntu' }, { token: reader.token });
      expect(r.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.ubuntu, ids.debian]);
      const prefix = await gql(t, TorrentsDocument, { search: 'greatest hit' }, { token: reader.token });
      expect(prefix.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.album]);
      const both = await gql(t, TorrentsDocument, { search: 'desktop 24.04' }, { token: reader.token });
      expect(both.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.ubuntu]);
    });

    it('treats SQL and LIKE metacharacters as text', async () => {
      const inj = await gql(t, TorrentsDocument, { search: "' OR 1=1 --" }, { token: reader.token });
      expect(inj.errors).toBeUndefined();
      expect(inj.data?.torrents.totalCount).toBe(0);
      const pct = await gql(t, TorrentsDocument, { search: '%' }, { token: reader.token });
      expect(pct.data?.torrents.nodes.map((n) => Number(n.id))).toEqual([ids.percent]);
      const us = await gql(t, TorrentsDocument, { search: '_' }, { token: reader.token });
      expect(us.data?.torrents.nodes.map((n) => Number(n.id)).sort()).toEqual([ids.album, ids.underscore].sort());
      expect(await t.db.prisma.torrent.count()).toBe(6);
    });

    it('rejects out-of-range paging and mixed paging styles', async () => {
      expect(codes(await gql(t, TorrentsDocument, { limit: 101 }, { token: reader.token }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t, TorrentsDocument, { first: 0 }, { token: reader.token }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t, TorrentsDocument, { first: 2, page: 2 }, { token: reader.token }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t, TorrentsDocument, { after: 'garbage' }, { token: reader.token }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('query counts', () => {
    it('lists a page with its uploaders and categories in a fixed number of SQL statements', async () => {
      const count = async (limit: number) => {
        const before = t.db.queries.total;
        const r = await gql(t, TorrentsDocument, { limit }, { token: reader.token });
        expect(r.data?.torrents.nodes).toHaveLength(limit);
        return t.db.queries.total - before;
      };
      // The page of ids, the total, the rows, and one batched statement per relation
      // (uploader, category): the same for one row as for five.
      expect(await count(5)).toBe(5);
      expect(await count(1)).toBe(5);
    });

    it('loads a torrent with its relations in a fixed number of SQL statements', async () => {
      const before = t.db.queries.total;
      const r = await gql(t, TorrentDocument, { id: String(ids.album) }, { token: reader.token });
      expect(r.errors).toBeUndefined();
      // The row, then one statement each for uploader, category and the viewer's thanks.
      expect(t.db.queries.total - before).toBe(4);
    });
  });

  describe('writes', () => {
    it('lets the uploader edit, and refuses other users', async () => {
      const id = String(ids.debian);
      expect(codes(await gql(t, UpdateTorrentDocument, { id, input: { name: 'hijacked' } }, { token: reader.token }))).toEqual(['FORBIDDEN']);
      const r = await gql(t, UpdateTorrentDocument, { id, input: { name: 'Debian 12 netinst (amd64)', description: 'new', anonymous: true } }, { token: uploader.token });
      expect(r.data?.updateTorrent).toMatchObject({ name: 'Debian 12 netinst (amd64)', description: 'new', anonymous: true });
      const seen = await gql(t, TorrentDocument, { id }, { token: reader.token });
      expect(seen.data?.torrent.uploader).toBeNull();
      const staff = await gql(t, TorrentDocument, { id }, { token: mod.token });
      expect(staff.data?.torrent.uploader?.id).toBe(String(uploader.id));
      expect(codes(await gql(t, UpdateTorrentDocument, { id, input: { name: '' } }, { token: uploader.token }))).toEqual(['BAD_USER_INPUT']);
    });

    it('sets promotions for staff only, with an optional end', async () => {
      const id = String(ids.album);
      const until = new Date(Date.now() + 3600_000).toISOString();
      expect(codes(await gql(t, SetTorrentPromotionDocument, { id, promotion: 'FREE', until }, { token: uploader.token }))).toEqual(['FORBIDDEN']);
      const r = await gql(t, SetTorrentPromotionDocument, { id, promotion: 'FREE', until }, { token: mod.token });
      expect(r.data?.setTorrentPromotion).toMatchObject({ promotion: 'FREE', promotionUntil: until });
      expect(t.app.ctx.torrents.byId(ids.album as number)).toMatchObject({ downloadPercent: 0, downloadUntil: Date.parse(until), uploadPercent: 100, uploadUntil: null });
      const past = new Date(Date.now() - 1000).toISOString();
      expect(codes(await gql(t, SetTorrentPromotionDocument, { id, promotion: 'DOUBLE_UP', until: past }, { token: mod.token }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t, SetTorrentPromotionDocument, { id, promotion: 'CUSTOM' }, { token: mod.token }))).toEqual(['BAD_USER_INPUT']);
      // NexusPHP's 2X 50 % and 30 % are presets too.
      const twoXHalf = await gql(t, SetTorrentPromotionDocument, { id, promotion: 'DOUBLE_UP_HALF_DOWN' }, { token: mod.token });
      expect(twoXHalf.data?.setTorrentPromotion).toMatchObject({ promotion: 'DOUBLE_UP_HALF_DOWN', promotionUntil: null });
      const thirty = await gql(t, TorrentDocument, { id }, { token: reader.token });
      expect(thirty.data?.torrent).toMatchObject({ promotion: 'DOUBLE_UP_HALF_DOWN', downloadFactor: 0.5, uploadFactor: 2, downloadFactorUntil: null, uploadFactorUntil: null });
      await gql(t, SetTorrentPromotionDocument, { id, promotion: 'NONE' }, { token: mod.token });
    });

    it('sets any two transfer factors with separate ends (UNIT3D free percentages, fl_until / du_until)', async () => {
      const id = String(ids.album);
      const freeUntil = new Date(Date.now() + 3600_000).toISOString();
      const doubleUntil = new Date(Date.now() + 7200_000).toISOString();
      const vars = { id, downloadPercent: 25, downloadUntil: freeUntil, uploadPercent: 200, uploadUntil: doubleUntil };
      expect(codes(await gql(t, SetTorrentTransferFactorsDocument, vars, { token: uploader.token }))).toEqual(['FORBIDDEN']);
      const r = await gql(t, SetTorrentTransferFactorsDocument, vars, { token: mod.token });
      expect(r.data?.setTorrentTransferFactors).toEqual({ id, promotion: 'CUSTOM', promotionUntil: freeUntil, downloadFactor: 0.25, downloadFactorUntil: freeUntil, uploadFactor: 2, uploadFactorUntil: doubleUntil });
      expect(t.app.ctx.torrents.byId(ids.album as number)).toMatchObject({ downloadPercent: 25, downloadUntil: Date.parse(freeUntil), uploadPercent: 200, uploadUntil: Date.parse(doubleUntil) });
      for (const bad of [{ downloadPercent: -1 }, { downloadPercent: 101 }, { uploadPercent: 1001 }, { uploadUntil: new Date(Date.now() - 1000).toISOString() }]) {
        expect(codes(await gql(t, SetTorrentTransferFactorsDocument, { ...vars, ...bad }, { token: mod.token }))).toEqual(['BAD_USER_INPUT']);
      }
      expect(codes(await gql(t, SetTorrentTransferFactorsDocument, { ...vars, id: '999999' }, { token: mod.token }))).toEqual(['NOT_FOUND']);
      // A neutral factor keeps no end.
      const neutral = await gql(t, SetTorrentTransferFactorsDocument, { id, downloadPercent: 100, downloadUntil: freeUntil, uploadPercent: 200 }, { token: mod.token });
      expect(neutral.data?.setTorrentTransferFactors).toMatchObject({ promotion: 'DOUBLE_UP', promotionUntil: null, downloadFactorUntil: null, uploadFactorUntil: null });
      await gql(t, SetTorrentPromotionDocument, { id, promotion: 'NONE' }, { token: mod.token });
    });

    it('deletes for the uploader: the tracker registry and the catalogue drop it at once', async () => {
      const victim = await aTorrent(t.db, uploader.id, { name: 'to delete' });
      await t.app.ctx.torrents.reload(victim.id);
      expect(codes(await gql(t, DeleteTorrentDocument, { id: String(victim.id) }, { token: reader.token }))).toEqual(['FORBIDDEN']);
      const r = await gql(t, DeleteTorrentDocument, { id: String(victim.id) }, { token: uploader.token });
      expect(r.data?.deleteTorrent).toBe(true);
      expect(t.app.ctx.torrents.byId(victim.id)?.status).toBe('DELETED');
      expect(codes(await gql(t, TorrentDocument, { id: String(victim.id) }, { token: uploader.token }))).toEqual(['NOT_FOUND']);
    });

    it('lists snatches of a torrent', async () => {
      await t.db.prisma.snatch.create({ data: { userId: reader.id, torrentId: ids.ubuntu as number, completedAt: new Date(), uploaded: 5n, downloaded: 10n } });
      const r = await gql(t, TorrentSnatchesDocument, { id: String(ids.ubuntu) }, { token: reader.token });
      expect(r.data?.torrent.snatchCount).toBe(1);
      expect(r.data?.torrent.snatches[0]).toMatchObject({ user: { id: String(reader.id) }, uploaded: '5', downloaded: '10' });
    });
  });
});
