/**
 * REST compat (`/api`, seed opentracker-api.md) over real HTTP: golden responses (status, the
 * headers that matter, exact body) for each route's success and each error it can produce, and
 * exactly one GraphQL operation per routed request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSession } from '../../src/auth/jwt.ts';
import { createUser } from '../../src/users/accounts.ts';
import { aTorrent } from '../support/factories.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, type Member } from '../graphql/support.ts';
import { http, postJson, startCompatApp, type Operations } from './support.ts';

let t: TestApp;
let ops: Operations;
let reader: Member;
let uploader: Member;
let banned: Member;
const ids: Record<string, number> = {};
const created: Record<string, string> = {};

const JSON_TYPE = 'application/json; charset=utf-8';

beforeAll(async () => {
  ({ t, ops } = await startCompatApp());
  reader = await aMember(t, { username: 'reader', bonus: 12.5 });
  uploader = await aMember(t, { username: 'uploader', role: 'UPLOADER' });
  banned = await aMember(t, { username: 'banned' });
  await t.db.prisma.user.update({ where: { id: reader.id }, data: { uploaded: 2n ** 62n, downloaded: 2n ** 61n } });
  await t.app.ctx.users.reload(reader.id);
  const cat = await t.db.prisma.category.create({ data: { slug: 'linux', name: 'Linux' } });
  ids.small = (await aTorrent(t.db, uploader.id, { name: 'small', size: 100n })).id;
  ids.big = (await aTorrent(t.db, uploader.id, { name: 'big', size: 5000n })).id;
  ids.mid = (await aTorrent(t.db, uploader.id, { name: 'mid', size: 1000n })).id;
  ids.pending = (await aTorrent(t.db, uploader.id, { name: 'pending', status: 'PENDING' })).id;
  await t.db.prisma.torrent.update({ where: { id: ids.mid }, data: { categoryId: cat.id, description: 'a description', files: [{ path: 'mid/a.txt', size: '400' }, { path: 'mid/d/b.bin', size: '600' }], fileCount: 2 } });
  // Distinct creation times: small (oldest), big, mid (newest).
  for (const [i, k] of ['small', 'big', 'mid'].entries()) {
    const at = new Date(Date.UTC(2026, 0, 1 + i, 12, 0, 0));
    await t.db.prisma.torrent.update({ where: { id: ids[k] as number }, data: { createdAt: at } });
    created[k] = at.toISOString();
  }
  await t.db.prisma.user.update({ where: { id: banned.id }, data: { status: 'BANNED' } });
  await t.app.ctx.users.reload(banned.id);
});
afterAll(async () => {
  await t.stop();
});

function item(k: 'small' | 'big' | 'mid', size: string, category: string | null = null) {
  return {
    id: ids[k],
    infoHash: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown,
    name: k,
    size,
    fileCount: k === 'mid' ? 2 : 1,
    seeders: 0,
    leechers: 0,
    completed: 0,
    promotion: 'none',
    category,
    uploader: { id: uploader.id, username: 'uploader' },
    createdAt: created[k],
  };
}

async function once(path: string, init: Parameters<typeof http>[2], op: string) {
  ops.reset();
  const r = await http(t, path, init);
  expect(ops.names).toEqual([op]);
  return r;
}

const UNAUTHORIZED = { error: { code: 'UNAUTHORIZED', message: 'sign in first' } };

describe('REST /api', () => {
  describe('GET /api/torrents', () => {
    it('lists newest first with the pagination block, in one operation', async () => {
      const r = await once('/api/torrents', { token: reader.token }, 'CompatTorrentsList');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(JSON_TYPE);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.json).toEqual({ torrents: [item('mid', '1000', 'linux'), item('big', '5000'), item('small', '100')], pagination: { page: 1, limit: 25, total: 3, pages: 1 } });
    });

    it('sorts, orders, pages (1-based), filters by category and searches', async () => {
      const bySize = await http(t, '/api/torrents?sort=size&order=asc', { token: reader.token });
      expect((bySize.json as { torrents: { name: string }[] }).torrents.map((x) => x.name)).toEqual(['small', 'mid', 'big']);
      const page2 = await http(t, '/api/torrents?sort=size&order=desc&page=2&limit=1', { token: reader.token });
      expect(page2.json).toEqual({ torrents: [item('mid', '1000', 'linux')], pagination: { page: 2, limit: 1, total: 3, pages: 3 } });
      const oldest = await http(t, '/api/torrents?order=asc&limit=1', { token: reader.token });
      expect((oldest.json as { torrents: { name: string }[] }).torrents.map((x) => x.name)).toEqual(['small']);
      const cat = await http(t, '/api/torrents?category=linux', { token: reader.token });
      expect(cat.json).toEqual({ torrents: [item('mid', '1000', 'linux')], pagination: { page: 1, limit: 25, total: 1, pages: 1 } });
      const search = await http(t, '/api/torrents?search=big', { token: reader.token });
      expect((search.json as { torrents: { name: string }[] }).torrents.map((x) => x.name)).toEqual(['big']);
    });

    it('clamps limit to 100', async () => {
      const r = await http(t, '/api/torrents?limit=1000', { token: reader.token });
      expect(r.status).toBe(200);
      expect((r.json as { pagination: unknown }).pagination).toEqual({ page: 1, limit: 100, total: 3, pages: 1 });
    });

    it('refuses bad sort, order, page and limit with 400 BAD_USER_INPUT before any operation', async () => {
      const cases: Array<[string, string]> = [
        ['sort=size;DROP TABLE x', 'sort must be one of created, seeders, leechers, size'],
        ['sort=name', 'sort must be one of created, seeders, leechers, size'],
        ['order=up', 'order must be asc or desc'],
        ['page=0', 'page must be 1 or more'],
        ['page=x', 'page must be an integer'],
        ['limit=0', 'limit must be 1 or more'],
      ];
      for (const [q, message] of cases) {
        ops.reset();
        const r = await http(t, `/api/torrents?${q}`, { token: reader.token });
        expect([r.status, r.json]).toEqual([400, { error: { code: 'BAD_USER_INPUT', message } }]);
        expect(ops.names).toEqual([]);
      }
    });

    it('answers 401 without credentials and for a banned account', async () => {
      const anon = await once('/api/torrents', {}, 'CompatTorrentsList');
      expect([anon.status, anon.headers.get('www-authenticate'), anon.json]).toEqual([401, 'Bearer', UNAUTHORIZED]);
      const ban = await http(t, '/api/torrents', { token: banned.token });
      expect([ban.status, ban.json]).toEqual([401, { error: { code: 'UNAUTHORIZED', message: 'this account is banned or disabled' } }]);
      const cookie = await http(t, '/api/torrents', { headers: { cookie: `ourbits_jwt=${reader.token}` } });
      expect(cookie.status).toBe(200);
    });
  });

  describe('GET /api/torrents/{id}', () => {
    it('returns the torrent with files', async () => {
      const r = await once(`/api/torrents/${ids.mid}`, { token: reader.token }, 'CompatTorrentById');
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        ...item('mid', '1000', 'linux'),
        description: 'a description',
        promotionUntil: null,
        files: [
          { path: 'mid/a.txt', size: '400' },
          { path: 'mid/d/b.bin', size: '600' },
        ],
      });
    });

    it('answers 404 for unknown, invisible (pending of another user) and impossible ids; 401 anonymous', async () => {
      const NOT_FOUND = { error: { code: 'NOT_FOUND', message: 'torrent not found' } };
      expect(await http(t, '/api/torrents/999999', { token: reader.token }).then((r) => [r.status, r.json])).toEqual([404, NOT_FOUND]);
      expect(await http(t, `/api/torrents/${ids.pending}`, { token: reader.token }).then((r) => [r.status, r.json])).toEqual([404, NOT_FOUND]);
      expect(await http(t, `/api/torrents/${ids.pending}`, { token: uploader.token }).then((r) => r.status)).toBe(200);
      expect(await http(t, '/api/torrents/0', { token: reader.token }).then((r) => [r.status, r.json])).toEqual([404, { error: { code: 'NOT_FOUND', message: 'id not found' } }]);
      expect(await http(t, '/api/torrents/99999999999', { token: reader.token }).then((r) => r.status)).toBe(404);
      expect(await http(t, `/api/torrents/${ids.mid}`).then((r) => [r.status, r.json])).toEqual([401, UNAUTHORIZED]);
    });
  });

  describe('GET /api/torrents/{id}/download', () => {
    it('serves the same .torrent as the GraphQL download route, with the caller passkey', async () => {
      const r = await fetch(`${t.url}/api/torrents/${ids.mid}/download`, { headers: { authorization: `Bearer ${reader.token}` } });
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/x-bittorrent');
      expect(r.headers.get('content-disposition')).toBe(`attachment; filename="mid.torrent"; filename*=UTF-8''mid.torrent`);
      expect(r.headers.get('cache-control')).toBe('private, no-store');
      expect(r.headers.get('content-length')).toBe(String(bytes.length));
      expect(bytes.toString('latin1')).toContain(`/announce?passkey=${reader.passkey}`);
      const native = await fetch(`${t.url}/download/${ids.mid}`, { headers: { authorization: `Bearer ${reader.token}` } });
      expect(Buffer.from(await native.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('runs one operation; 404 unknown; 401 anonymous', async () => {
      await once(`/api/torrents/${ids.small}/download`, { token: reader.token }, 'CompatTorrentDownload');
      expect(await http(t, '/api/torrents/999999/download', { token: reader.token }).then((r) => [r.status, r.json])).toEqual([404, { error: { code: 'NOT_FOUND', message: 'torrent not found' } }]);
      expect(await http(t, `/api/torrents/${ids.small}/download`).then((r) => [r.status, r.json])).toEqual([401, UNAUTHORIZED]);
    });

    it('GraphQL torrentFile is refused in lists (one file per request)', async () => {
      const r = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${reader.token}` },
        body: JSON.stringify({ query: '{ torrents(limit: 2) { nodes { torrentFile } } }' }),
      });
      const body = (await r.json()) as { errors?: { message: string; extensions: { code: string } }[] };
      expect(body.errors?.[0]).toMatchObject({ message: 'torrentFile is only available on a single torrent', extensions: { code: 'BAD_USER_INPUT' } });
    });
  });

  describe('GET /api/user/me and /api/user/{id}/stats', () => {
    it('returns the caller with passkey; 64-bit counters as strings', async () => {
      const joined = (await t.db.prisma.user.findUniqueOrThrow({ where: { id: reader.id } })).createdAt.toISOString();
      const r = await once('/api/user/me', { token: reader.token }, 'CompatUserMe');
      expect([r.status, r.json]).toEqual([
        200,
        { id: reader.id, username: 'reader', role: 'user', passkey: reader.passkey, uploaded: String(2n ** 62n), downloaded: String(2n ** 61n), ratio: 2, bonus: 12.5, seeding: 0, leeching: 0, joinedAt: joined },
      ]);
      expect(await http(t, '/api/user/me').then((x) => [x.status, x.json])).toEqual([401, UNAUTHORIZED]);
    });

    it('returns public stats of a user; 404 unknown; 401 anonymous', async () => {
      const joined = (await t.db.prisma.user.findUniqueOrThrow({ where: { id: uploader.id } })).createdAt.toISOString();
      const r = await once(`/api/user/${uploader.id}/stats`, { token: reader.token }, 'CompatUserStats');
      expect([r.status, r.json]).toEqual([200, { id: uploader.id, username: 'uploader', uploaded: '0', downloaded: '0', ratio: null, bonus: 0, seeding: 0, leeching: 0, uploadedTorrents: 3, joinedAt: joined }]);
      expect(JSON.stringify(r.json)).not.toContain(uploader.passkey);
      expect(await http(t, '/api/user/999999/stats', { token: reader.token }).then((x) => [x.status, x.json])).toEqual([404, { error: { code: 'NOT_FOUND', message: 'user not found' } }]);
      expect(await http(t, `/api/user/${uploader.id}/stats`).then((x) => [x.status, x.json])).toEqual([401, UNAUTHORIZED]);
    });
  });

  describe('POST /api/auth/login', () => {
    it('signs in and sets the session cookie exactly as GraphQL login does', async () => {
      const u = await createUser(t.db.prisma, { username: 'Alice', password: 'correct horse battery' });
      const r = await once('/api/auth/login', postJson({ username: 'alice', password: 'correct horse battery' }), 'CompatAuthLogin');
      expect(r.status).toBe(200);
      const body = r.json as { token: string; expiresAt: string };
      expect(body).toEqual({ token: expect.any(String) as unknown, expiresAt: expect.any(String) as unknown, user: { id: u.id, username: 'Alice', role: 'user' } });
      expect(r.headers.getSetCookie()).toEqual([`ourbits_jwt=${body.token}; Max-Age=${t.config.auth.jwtTtlSeconds}; Path=/; HttpOnly; SameSite=Lax`]);
      const me = await http(t, '/api/user/me', { headers: { cookie: `ourbits_jwt=${body.token}` } });
      expect((me.json as { id: number }).id).toBe(u.id);
    });

    it('answers an unknown user and a wrong password with the same 401', async () => {
      const unknown = await http(t, '/api/auth/login', postJson({ username: 'nobody', password: 'whatever1' }));
      const wrong = await http(t, '/api/auth/login', postJson({ username: 'alice', password: 'whatever1' }));
      expect([unknown.status, unknown.text]).toEqual([wrong.status, wrong.text]);
      expect(unknown.status).toBe(401);
      expect(unknown.json).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) as unknown } });
      expect(unknown.headers.getSetCookie()).toEqual([]);
    });

    it('refuses non-JSON, bad JSON and missing fields with 400', async () => {
      const form = await http(t, '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=alice&password=x' });
      expect([form.status, form.json]).toEqual([400, { error: { code: 'BAD_USER_INPUT', message: 'send a JSON body (Content-Type: application/json)' } }]);
      const bad = await http(t, '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
      expect([bad.status, bad.json]).toEqual([400, { error: { code: 'BAD_USER_INPUT', message: 'the body is not valid JSON' } }]);
      const missing = await http(t, '/api/auth/login', postJson({ username: 'alice' }));
      expect([missing.status, missing.json]).toEqual([400, { error: { code: 'BAD_USER_INPUT', message: 'password is required' } }]);
      const huge = await http(t, '/api/auth/login', postJson({ username: 'alice', password: 'x'.repeat(70_000) }));
      expect([huge.status, huge.json]).toEqual([400, { error: { code: 'BAD_USER_INPUT', message: 'request body too large' } }]);
    });
  });

  describe('routing', () => {
    it('unknown /api paths are 404 and known paths with another method 405 with Allow', async () => {
      expect(await http(t, '/api/nope', { token: reader.token }).then((r) => [r.status, r.json])).toEqual([404, { error: { code: 'NOT_FOUND', message: 'no route for GET /api/nope' } }]);
      const r = await http(t, '/api/torrents', { method: 'POST', token: reader.token });
      expect([r.status, r.headers.get('allow'), r.json]).toEqual([405, 'GET', { error: { code: 'BAD_USER_INPUT', message: 'POST is not allowed here; use GET' } }]);
      const g = await http(t, '/api/auth/login', { token: reader.token });
      expect([g.status, g.headers.get('allow')]).toEqual([405, 'POST']);
    });

    it('every authenticated route: 401 without credentials and for a banned account, exact body and WWW-Authenticate', async () => {
      for (const path of ['/api/torrents', `/api/torrents/${ids.mid}`, `/api/torrents/${ids.mid}/download`, '/api/user/me', `/api/user/${uploader.id}/stats`]) {
        const anon = await http(t, path);
        expect([path, anon.status, anon.headers.get('www-authenticate'), anon.json]).toEqual([path, 401, 'Bearer', UNAUTHORIZED]);
        const ban = await http(t, path, { token: banned.token });
        expect([path, ban.status, ban.json]).toEqual([path, 401, { error: { code: 'UNAUTHORIZED', message: 'this account is banned or disabled' } }]);
      }
    });

    it('a revoked token is 401 on REST too', async () => {
      const m = await aMember(t);
      const { token } = signSession(t.app.ctx.config.auth, m.id, 0);
      await t.db.prisma.user.update({ where: { id: m.id }, data: { tokenVersion: 1 } });
      await t.app.ctx.users.reload(m.id);
      const r = await http(t, '/api/user/me', { token });
      expect([r.status, r.json]).toEqual([401, { error: { code: 'UNAUTHORIZED', message: 'the session token was revoked; sign in again' } }]);
    });
  });
});
