/**
 * jsonapi.php compat (seed ourbits-jsonapi.md) over real HTTP: golden envelopes (status,
 * headers that matter, exact body) for each action's success and each error code it can
 * produce, action from the query, a form body or a JSON body, paging and clamping, debug
 * counters, and exactly one GraphQL operation per routed request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSession } from '../../src/auth/jwt.ts';
import { createUser } from '../../src/users/accounts.ts';
import { aTorrent } from '../support/factories.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, type Member } from '../graphql/support.ts';
import { GENEROUS_JSONAPI, http, postForm, postJson, startCompatApp, type Operations } from './support.ts';

let t: TestApp;
let ops: Operations;
let reader: Member;
let uploader: Member;
let banned: Member;
let rich: Member;
const ids: Record<string, number> = {};

beforeAll(async () => {
  ({ t, ops } = await startCompatApp({ compat: { jsonapiLimits: GENEROUS_JSONAPI } }));
  reader = await aMember(t, { username: 'reader' });
  uploader = await aMember(t, { username: 'uploader', role: 'UPLOADER' });
  banned = await aMember(t, { username: 'banned' });
  rich = await aMember(t, { username: 'rich', bonus: 1000 });
  await t.db.prisma.user.update({ where: { id: banned.id }, data: { status: 'BANNED' } });
  await t.app.ctx.users.reload(banned.id);
  ids.show = (await aTorrent(t.db, uploader.id, { name: 'torrentName', size: 37037034n })).id;
  ids.other = (await aTorrent(t.db, uploader.id, { name: 'other', size: 10n })).id;
  await t.db.prisma.torrent.update({
    where: { id: ids.show },
    data: {
      createdAt: new Date(Date.UTC(2021, 8, 26, 10, 57, 52)),
      description: 'desc',
      fileCount: 3,
      files: [
        { path: 'torrentName/Dir1/file1', size: '12345678' },
        { path: 'torrentName/file2', size: '12345678' },
        { path: 'torrentName/file3', size: '12345678' },
      ],
    },
  });
  await t.db.prisma.torrent.update({ where: { id: ids.other }, data: { createdAt: new Date(Date.UTC(2021, 8, 25, 0, 0, 0)) } });
});
afterAll(async () => {
  await t.stop();
});

const JSON_TYPE = 'application/json; charset=utf-8';
const fail = (errorCode: number, errorMsg: string) => ({ success: false, data: null, errorCode, errorMsg });

async function api(query: string, init: Parameters<typeof http>[2] = {}) {
  return http(t, `/jsonapi.php${query}`, init);
}

async function once(query: string, init: Parameters<typeof http>[2], op: string) {
  ops.reset();
  const r = await api(query, init);
  expect(ops.names).toEqual([op]);
  return r;
}

describe('jsonapi.php', () => {
  describe('dispatch', () => {
    it('unknown or missing action, and unsupported methods → 40001, nothing executed', async () => {
      ops.reset();
      const unknown = await api('?action=torrent/nope', { token: reader.token });
      expect([unknown.status, unknown.headers.get('content-type'), unknown.json]).toEqual([400, JSON_TYPE, fail(40001, 'unknown action: torrent/nope')]);
      expect((await api('', { token: reader.token })).json).toEqual(fail(40001, 'the action parameter is required'));
      expect((await api('?action=site/info', { method: 'PUT', token: reader.token })).json).toEqual(fail(40001, 'request method PUT is not supported'));
      expect(ops.names).toEqual([]);
    });

    it('takes the action from the query, a form body or a JSON body', async () => {
      for (const init of [{}, postForm({ action: 'user/me' }), postJson({ action: 'user/me' })]) {
        const r = await once(Object.keys(init).length === 0 ? '?action=user/me' : '', { ...init, token: reader.token }, 'CompatJsonapiUserMe');
        expect((r.json as { success: boolean }).success).toBe(true);
      }
    });

    it('accepts the ourbits_jwt cookie; a Bearer wins over the cookie', async () => {
      const c = await api('?action=user/me', { headers: { cookie: `ourbits_jwt=${reader.token}` } });
      expect((c.json as { data: { id: number } }).data.id).toBe(reader.id);
      const both = await api('?action=user/me', { headers: { cookie: `ourbits_jwt=${reader.token}`, authorization: `Bearer ${uploader.token}` } });
      expect((both.json as { data: { id: number } }).data.id).toBe(uploader.id);
    });
  });

  describe('auth/login', () => {
    it('signs in (POST form), sets the cookie, and refuses GET with 40001', async () => {
      const u = await createUser(t.db.prisma, { username: 'Alice', password: 'correct horse battery' });
      const r = await once('?action=auth/login', postForm({ username: 'alice', password: 'correct horse battery' }), 'CompatJsonapiLogin');
      const body = r.json as { data: { token: string; expire: number } };
      expect([r.status, r.json]).toEqual([200, { success: true, data: { token: expect.any(String) as unknown, expire: expect.any(Number) as unknown, uid: u.id, username: 'Alice' } }]);
      expect(r.headers.getSetCookie()).toEqual([`ourbits_jwt=${body.data.token}; Max-Age=${t.config.auth.jwtTtlSeconds}; Path=/; HttpOnly; SameSite=Lax`]);
      ops.reset();
      const get = await api('?action=auth/login&username=alice&password=correct%20horse%20battery');
      expect([get.status, get.json]).toEqual([400, fail(40001, 'action auth/login needs a POST request')]);
      expect(ops.names).toEqual([]);
    });

    it('unknown user and wrong password → the same 40101; banned account with the right password → 40102; missing password → 40001', async () => {
      const unknown = await api('', postForm({ action: 'auth/login', username: 'nobody', password: 'whatever1' }));
      const wrong = await api('', postForm({ action: 'auth/login', username: 'alice', password: 'whatever1' }));
      expect(unknown.text).toBe(wrong.text);
      expect([unknown.status, (unknown.json as { errorCode: number }).errorCode]).toEqual([401, 40101]);
      const b = await createUser(t.db.prisma, { username: 'bob', password: 'bob password 1' });
      await t.db.prisma.user.update({ where: { id: b.id }, data: { status: 'BANNED' } });
      const ban = await api('', postJson({ action: 'auth/login', username: 'bob', password: 'bob password 1' }));
      expect([ban.status, (ban.json as { errorCode: number }).errorCode]).toEqual([401, 40102]);
      const missing = await api('', postForm({ action: 'auth/login', username: 'alice' }));
      expect([missing.status, missing.json]).toEqual([400, fail(40001, 'password is required')]);
    });
  });

  describe('credentials', () => {
    it('no credentials → 40101, banned account → 40102, bad token → 40101 (every action but login, exact envelopes)', async () => {
      const anon = await once(`?action=torrent/${ids.show}`, {}, 'CompatTorrentInfo');
      expect([anon.status, anon.json]).toEqual([401, fail(40101, 'sign in first')]);
      const ban = await api(`?action=torrent/${ids.show}`, { token: banned.token });
      expect([ban.status, ban.json]).toEqual([401, fail(40102, 'this account is banned or disabled')]);
      const bad = await api(`?action=torrent/${ids.show}`, { token: 'not.a.jwt' });
      expect([bad.status, bad.json]).toEqual([401, fail(40101, 'the session token is invalid or expired; sign in again')]);
      for (const action of ['torrent/search', `torrent/${ids.show}/files`, `torrent/${ids.show}/peers`, 'user/me', 'site/fun/view', 'site/fun/list', 'site/news', 'site/info']) {
        expect(await api(`?action=${action}`).then((r) => [action, r.status, r.json])).toEqual([action, 401, fail(40101, 'sign in first')]);
        expect(await api(`?action=${action}`, { token: banned.token }).then((r) => [action, r.status, r.json])).toEqual([action, 401, fail(40102, 'this account is banned or disabled')]);
      }
      for (const action of [`torrent/${ids.show}/thanks`, `torrent/${ids.show}/magic`]) {
        expect(await api('', postForm({ action, value: '100' })).then((r) => [action, r.status, r.json])).toEqual([action, 401, fail(40101, 'sign in first')]);
        expect(await api('', { ...postForm({ action, value: '100' }), token: banned.token }).then((r) => [action, r.status, r.json])).toEqual([action, 401, fail(40102, 'this account is banned or disabled')]);
      }
    });
  });

  describe('revocation', () => {
    it('a revoked Bearer → 40101 and does not fall back to a valid cookie', async () => {
      const m = await aMember(t);
      const { token } = signSession(t.app.ctx.config.auth, m.id, 0);
      await t.db.prisma.user.update({ where: { id: m.id }, data: { tokenVersion: 1 } });
      await t.app.ctx.users.reload(m.id);
      const r = await api('?action=user/me', { token });
      expect([r.status, r.json]).toEqual([401, fail(40101, 'the session token was revoked; sign in again')]);
      const both = await api('?action=user/me', { headers: { authorization: `Bearer ${token}`, cookie: `ourbits_jwt=${reader.token}` } });
      expect((both.json as { errorCode: number }).errorCode).toBe(40101);
    });
  });

  describe('torrent/search', () => {
    it('pages 0-based with the pager, limit <50,100> silently clamped', async () => {
      const r = await once('?action=torrent/search', { token: reader.token }, 'CompatTorrentSearch');
      const show = { id: ids.show, name: 'torrentName', infoHash: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown, size: 37037034, seeders: 0, leechers: 0, completed: 0, promotion: 'none', category: null, added: '2021-09-26 10:57:52' };
      const other = { id: ids.other, name: 'other', infoHash: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown, size: 10, seeders: 0, leechers: 0, completed: 0, promotion: 'none', category: null, added: '2021-09-25 00:00:00' };
      expect([r.status, r.json]).toEqual([200, { success: true, data: { list: [show, other] }, pager: { page: 0, limit: 50, count: 2 } }]);
      expect((await api('?action=torrent/search&page=1&limit=1', { token: reader.token })).json).toEqual({ success: true, data: { list: [other] }, pager: { page: 1, limit: 1, count: 2 } });
      expect(((await api('?action=torrent/search&limit=1000', { token: reader.token })).json as { pager: unknown }).pager).toEqual({ page: 0, limit: 100, count: 2 });
      expect(((await api('?action=torrent/search&limit=0', { token: reader.token })).json as { pager: unknown }).pager).toEqual({ page: 0, limit: 50, count: 2 });
      expect(((await api('?action=torrent/search&limit=abc', { token: reader.token })).json as { pager: unknown }).pager).toEqual({ page: 0, limit: 50, count: 2 });
      expect((await api('?action=torrent/search&search=other', { token: reader.token })).json).toEqual({ success: true, data: { search: 'other', list: [other] }, pager: { page: 0, limit: 50, count: 1 } });
    });

    it('a negative or non-integer page → 40001', async () => {
      expect(await api('?action=torrent/search&page=-1', { token: reader.token }).then((r) => [r.status, r.json])).toEqual([400, fail(40001, 'page must be 0 or more')]);
      expect((await api('?action=torrent/search&page=x', { token: reader.token })).json).toEqual(fail(40001, 'page must be an integer'));
    });
  });

  describe('torrent/{id}, files, peers', () => {
    it('torrent/{id}: basic info; 40002 unknown or impossible id', async () => {
      const r = await once(`?action=torrent/${ids.show}`, { token: reader.token }, 'CompatTorrentInfo');
      expect([r.status, r.json]).toEqual([
        200,
        {
          success: true,
          data: {
            id: ids.show,
            name: 'torrentName',
            infoHash: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown,
            descr: 'desc',
            size: 37037034,
            numfiles: 3,
            seeders: 0,
            leechers: 0,
            completed: 0,
            thanks: 0,
            promotion: 'none',
            category: null,
            owner: { id: uploader.id, username: 'uploader' },
            added: '2021-09-26 10:57:52',
          },
        },
      ]);
      expect(await api('?action=torrent/999999', { token: reader.token }).then((x) => [x.status, x.json])).toEqual([400, fail(40002, 'torrent not found')]);
      expect((await api('?action=torrent/0', { token: reader.token })).json).toEqual(fail(40002, 'id not found'));
    });

    it('torrent/{id}/files: the nested tree exactly as the seed shows', async () => {
      const r = await once(`?action=torrent/${ids.show}/files`, { token: reader.token }, 'CompatTorrentFiles');
      expect(r.text).toBe('{"success":true,"data":{"torrentName":{"Dir1":{"file1":12345678},"file2":12345678,"file3":12345678}}}');
      expect((await api('?action=torrent/999999/files', { token: reader.token })).json).toEqual(fail(40002, 'torrent not found'));
    });

    it('torrent/{id}/peers: seeding status without anyone’s address', async () => {
      const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: ids.show } });
      const key = Buffer.from(row.infoHash, 'hex').toString('latin1');
      const now = Math.floor(Date.now() / 1000);
      for (const [i, left, userId] of [[1, 0, uploader.id], [2, 10, reader.id]] as const) {
        await t.app.ctx.swarm.announce({ infoHash: key, peerId: `-qB4630-${String(i).padStart(12, '0')}`, userId, keyHash: i, ip: Buffer.from([10, 0, 0, i]), port: 6881, uploaded: 5, downloaded: 7, left, event: 0, now }, { numwant: 0, peerIds: false });
      }
      const r = await once(`?action=torrent/${ids.show}/peers`, { token: reader.token }, 'CompatTorrentPeers');
      const seen = new Date(now * 1000).toISOString().slice(0, 19).replace('T', ' ');
      const peer = (seeder: boolean, mine: boolean) => ({ client: '-qB4630-', seeder, uploaded: 5, downloaded: 7, lastSeen: seen, mine });
      const data = (r.json as { data: { peers: unknown[] } }).data;
      expect(r.status).toBe(200);
      expect({ ...data, peers: [...data.peers].sort((a, b) => Number((b as { seeder: boolean }).seeder) - Number((a as { seeder: boolean }).seeder)) }).toEqual({ torrentId: ids.show, seeders: 1, leechers: 1, completed: 0, peers: [peer(true, false), peer(false, true)] });
      expect(r.text).not.toContain('10.0.0.');
      expect((await api('?action=torrent/999999/peers', { token: reader.token })).json).toEqual(fail(40002, 'torrent not found'));
    });
  });

  describe('POST torrent/{id}/thanks and torrent/{id}/magic', () => {
    it('thanks: the seed response; twice or own torrent → 40003; unknown → 40002; GET → 40001', async () => {
      const r = await once('', { ...postForm({ action: `torrent/${ids.other}/thanks` }), token: reader.token }, 'CompatTorrentThanks');
      expect([r.status, r.json]).toEqual([200, { success: true, data: { torrentId: ids.other, msg: `Say Thanks to Torrent ${ids.other} success!` } }]);
      expect(await api('', { ...postForm({ action: `torrent/${ids.other}/thanks` }), token: reader.token }).then((x) => [x.status, x.json])).toEqual([400, fail(40003, 'you already thanked this torrent')]);
      expect((await api('', { ...postForm({ action: `torrent/${ids.other}/thanks` }), token: uploader.token })).json).toEqual(fail(40003, 'you cannot thank your own torrent'));
      expect((await api('', { ...postForm({ action: 'torrent/999999/thanks' }), token: reader.token })).json).toEqual(fail(40002, 'torrent not found'));
      expect((await api(`?action=torrent/${ids.other}/thanks`, { token: reader.token })).json).toEqual(fail(40001, 'action torrent/{id:\\d+}/thanks needs a POST request'));
    });

    it('magic: the seed response, the uploader gets it after tax; bad value → 40001; not enough bonus → 40003', async () => {
      const before = (await t.db.prisma.user.findUniqueOrThrow({ where: { id: uploader.id } })).bonus;
      const r = await once('', { ...postJson({ action: `torrent/${ids.show}/magic`, value: 100 }), token: rich.token }, 'CompatTorrentMagic');
      expect([r.status, r.json]).toEqual([200, { success: true, data: { torrentId: ids.show, point: 100, msg: `Sent Bonus ${100} to Torrent ${ids.show} Successful` } }]);
      const after = (await t.db.prisma.user.findUniqueOrThrow({ where: { id: uploader.id } })).bonus;
      expect(after - before).toBe(100 * (1 - t.config.accounting.giftTax));
      ops.reset();
      for (const value of ['49', '-100', '150', 'abc', '']) {
        expect(await api('', { ...postForm({ action: `torrent/${ids.show}/magic`, value }), token: rich.token }).then((x) => [x.status, x.json])).toEqual([400, fail(40001, 'value must be one of 50, 100, 200, 500, 1000')]);
      }
      expect((await api('', { ...postForm({ action: `torrent/${ids.show}/magic` }), token: rich.token })).json).toEqual(fail(40001, 'value must be one of 50, 100, 200, 500, 1000'));
      expect(ops.names).toEqual([]);
      expect((await api('', { ...postForm({ action: `torrent/${ids.show}/magic`, value: '1000' }), token: reader.token })).json).toEqual(fail(40003, 'not enough bonus points'));
      expect((await api('', { ...postForm({ action: `torrent/${ids.show}/magic`, value: '50' }), token: uploader.token })).json).toEqual(fail(40003, 'you cannot send bonus to your own torrent'));
      expect((await api('', { ...postForm({ action: 'torrent/999999/magic', value: '50' }), token: rich.token })).json).toEqual(fail(40002, 'torrent not found'));
      expect((await api(`?action=torrent/${ids.show}/magic&value=50`, { token: rich.token })).json).toEqual(fail(40001, 'action torrent/{id:\\d+}/magic needs a POST request'));
    });
  });

  describe('user/me', () => {
    it('returns the caller', async () => {
      const joined = (await t.db.prisma.user.findUniqueOrThrow({ where: { id: reader.id } })).createdAt.toISOString().slice(0, 19).replace('T', ' ');
      const r = await once('?action=user/me', { token: reader.token }, 'CompatJsonapiUserMe');
      expect([r.status, r.json]).toEqual([
        200,
        { success: true, data: { id: reader.id, username: 'reader', class: 'user', uploaded: '0', downloaded: '0', ratio: null, bonus: 0, seeding: 0, leeching: 0, added: joined, hitAndRuns: { inspecting: 0, unreached: 0, limit: 3 }, requiredRatio: 0, ratioWatchEnds: null } },
      ]);
    });

    it('carries the hit-and-run counts and the ratio watch', async () => {
      const u = reader;
      const torrentId = ids.other as number;
      const at = new Date('2026-12-01T10:00:00Z');
      await t.db.prisma.snatch.create({ data: { userId: u.id, torrentId } });
      await t.db.prisma.hitAndRun.create({ data: { userId: u.id, torrentId, status: 'UNREACHED', openedAt: at, requiredSeedSeconds: 1, requiredRatio: 1, prewarnSeconds: 1, graceSeconds: 2, unreachedAt: at } });
      await t.db.prisma.ratioWatch.create({ data: { userId: u.id, requiredRatio: 0.3, endsAt: at, times: 1 } });
      const r = await once('?action=user/me', { token: u.token }, 'CompatJsonapiUserMe');
      expect((r.json as { data: unknown }).data).toMatchObject({ hitAndRuns: { inspecting: 0, unreached: 1, limit: 3 }, requiredRatio: 0.3, ratioWatchEnds: '2026-12-01 10:00:00' });
    });
  });

  describe('site/fun, site/news, site/info', () => {
    it('site/fun/view without entries → 40002', async () => {
      const r = await once('?action=site/fun/view', { token: reader.token }, 'CompatFunView');
      expect([r.status, r.json]).toEqual([400, fail(40002, 'fun entry not found')]);
    });

    it('site/fun/view[/{id}]: the seed shape; never dull or banned entries', async () => {
      const at = (s: number) => new Date(Date.UTC(2021, 8, 26, 10, 57, s));
      const a = await t.db.prisma.funEntry.create({ data: { userId: uploader.id, title: 'Title', body: 'Body', status: 'NORMAL', createdAt: at(52) } });
      const dull = await t.db.prisma.funEntry.create({ data: { userId: uploader.id, title: 'Dull', body: 'zzz', status: 'DULL', createdAt: at(53) } });
      const banned = await t.db.prisma.funEntry.create({ data: { userId: uploader.id, title: 'Banned', body: 'no', status: 'BANNED', createdAt: at(54) } });
      await t.db.prisma.funVote.createMany({ data: [{ funId: a.id, userId: reader.id, funny: true }, { funId: a.id, userId: rich.id, funny: false }] });
      const expected = {
        success: true,
        data: { id: String(a.id), userid: String(uploader.id), userHtml: `<a href="userdetails.php?id=${uploader.id}"><b>uploader</b></a>`, added: '2021-09-26 10:57:52', title: 'Title', body: 'Body', status: 'normal', vote: { total: '2', fun: '1' } },
      };
      expect((await api('?action=site/fun/view', { token: reader.token })).json).toEqual(expected);
      expect((await once(`?action=site/fun/view/${a.id}`, { token: reader.token }, 'CompatFunView')).json).toEqual(expected);
      expect((await api(`?action=site/fun/view/${dull.id}`, { token: reader.token })).json).toEqual(fail(40002, 'fun entry not found'));
      expect((await api(`?action=site/fun/view/${banned.id}`, { token: reader.token })).json).toEqual(fail(40002, 'fun entry not found'));
      expect((await api('?action=site/fun/view/', { token: reader.token })).json).toEqual(fail(40001, 'unknown action: site/fun/view/'));
    });

    it('site/fun/list: search by field, paging, limit <10,50>, no banned entries, no votes', async () => {
      const r = await once('?action=site/fun/list', { token: reader.token }, 'CompatFunList');
      const entries = (r.json as { data: { list: { title: string }[] } }).data.list;
      expect(entries.map((e) => e.title)).toEqual(['Dull', 'Title']);
      expect((r.json as { pager: unknown }).pager).toEqual({ page: 0, limit: 10, count: 2 });
      const s = await api('?action=site/fun/list&search=zz&field=body', { token: reader.token });
      expect(s.json).toEqual({ success: true, data: { search: 'zz', list: [{ id: expect.any(String) as unknown, added: '2021-09-26 10:57:53', title: 'Dull', body: 'zzz', status: 'dull' }] }, pager: { page: 0, limit: 10, count: 1 } });
      expect(((await api('?action=site/fun/list&search=zz', { token: reader.token })).json as { pager: { count: number } }).pager.count).toBe(0);
      expect(((await api('?action=site/fun/list&search=zz&field=both', { token: reader.token })).json as { pager: { count: number } }).pager.count).toBe(1);
      expect(((await api('?action=site/fun/list&limit=500&page=1', { token: reader.token })).json as { pager: unknown }).pager).toEqual({ page: 1, limit: 50, count: 2 });
      expect((await api('?action=site/fun/list&field=author', { token: reader.token })).json).toEqual(fail(40001, 'field must be one of title, body, both'));
    });

    it('site/news: newest first, limit <10,50>', async () => {
      const admin = await aMember(t, { role: 'ADMIN', username: 'admin' });
      await t.db.prisma.news.create({ data: { authorId: admin.id, title: 'Old', body: 'b1', createdAt: new Date(Date.UTC(2021, 0, 1)) } });
      const n2 = await t.db.prisma.news.create({ data: { authorId: admin.id, title: 'New', body: 'b2', createdAt: new Date(Date.UTC(2021, 0, 2)) } });
      const r = await once('?action=site/news&limit=1', { token: reader.token }, 'CompatSiteNews');
      expect([r.status, r.json]).toEqual([200, { success: true, data: { list: [{ id: String(n2.id), userid: String(admin.id), added: '2021-01-02 00:00:00', title: 'New', body: 'b2' }] } }]);
      expect(((await api('?action=site/news&limit=999', { token: reader.token })).json as { data: { list: unknown[] } }).data.list).toHaveLength(2);
    });

    it('site/info: site totals', async () => {
      const r = await once('?action=site/info', { token: reader.token }, 'CompatSiteInfo');
      const users = await t.db.prisma.user.count({ where: { status: 'ACTIVE' } });
      expect([r.status, r.json]).toEqual([200, { success: true, data: { users, torrents: 2, peers: 2, seeders: 1, leechers: 1, totalUploaded: '0', totalDownloaded: '0' } }]);
    });
  });

  describe('debug=1', () => {
    it('adds the SQL statements and cache operations of this request only', async () => {
      await api(`?action=torrent/${ids.show}/files`, { token: reader.token });
      const r = await api(`?action=torrent/${ids.show}/files&debug=1`, { token: reader.token });
      expect(r.json).toEqual({ success: true, data: { torrentName: { Dir1: { file1: 12345678 }, file2: 12345678, file3: 12345678 } }, debug: { mysql: 1, redis: { read: 0, write: 0, delete: 0, magic: 0 } } });
      const many = await Promise.all(Array.from({ length: 6 }, () => api(`?action=torrent/${ids.show}/files&debug=1`, { token: reader.token })));
      for (const m of many) expect((m.json as { debug: unknown }).debug).toEqual({ mysql: 1, redis: { read: 0, write: 0, delete: 0, magic: 0 } });
      const failed = await api('', postForm({ action: 'torrent/999999', debug: '1' }, { authorization: `Bearer ${reader.token}` }));
      expect(failed.json).toEqual({ ...fail(40002, 'torrent not found'), debug: { mysql: 1, redis: { read: 0, write: 0, delete: 0, magic: 0 } } });
      const unknown = await api('?action=nope&debug=1');
      expect(unknown.json).toEqual({ ...fail(40001, 'unknown action: nope'), debug: { mysql: 0, redis: { read: 0, write: 0, delete: 0, magic: 0 } } });
    });
  });
});
