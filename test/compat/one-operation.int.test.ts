/**
 * Proof that every compat route and action runs exactly one GraphQL operation: with the real
 * executor (no injection), the GraphQL module's Yoga instance is wrapped to count the requests
 * it serves (batching is off: one request is one operation), and one successful request is made
 * to every route of the table; the table and this list must name the same routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../compat/routes.ts';
import { createCompatModule } from '../../compat/module.ts';
import { graphqlModuleOf, createGraphQLModule } from '../../src/graphql/module.ts';
import { createUser } from '../../src/users/accounts.ts';
import { aTorrent } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { aMember, GENEROUS, type Member } from '../graphql/support.ts';
import { GENEROUS_JSONAPI, http, postForm, postJson } from './support.ts';

let t: TestApp;
let m: Member;
let torrentId: number;
let funId: number;
const seen: string[] = [];

beforeAll(async () => {
  t = await startTestApp({}, { modules: [createCompatModule({ jsonapiLimits: GENEROUS_JSONAPI }), createGraphQLModule({ rateLimits: GENEROUS })], timers: false });
  const gql = graphqlModuleOf(t.app.ctx);
  if (!gql) throw new Error('no GraphQL module');
  // executeOperation calls module.yoga.fetch: count what reaches Yoga through that door.
  const yoga = gql.yoga;
  const original = yoga.fetch.bind(yoga);
  const counted = (...args: Parameters<typeof original>) => {
    const init = args[1] as { body?: string } | undefined;
    const query = init?.body ? (JSON.parse(init.body) as { query: string }).query : '';
    seen.push(/^(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? '?');
    return original(...args);
  };
  gql.yoga = new Proxy(yoga, { get: (target, prop, receiver) => (prop === 'fetch' ? counted : Reflect.get(target, prop, receiver) as unknown) });
  m = await aMember(t, { bonus: 1000 });
  const up = await aMember(t, { role: 'UPLOADER' });
  torrentId = (await aTorrent(t.db, up.id)).id;
  funId = (await t.db.prisma.funEntry.create({ data: { userId: up.id, title: 't', body: 'b' } })).id;
  await createUser(t.db.prisma, { username: 'alice', password: 'correct horse battery' });
});
afterAll(async () => {
  await t.stop();
});

describe('one GraphQL operation per legacy request', () => {
  it('every route and action of the table', async () => {
    const auth = () => ({ authorization: `Bearer ${m.token}` });
    const cases: Array<[string, string, RequestInit]> = [
      ['GET /api/torrents', '/api/torrents', { headers: auth() }],
      ['GET /api/torrents/{id:\\d+}', `/api/torrents/${torrentId}`, { headers: auth() }],
      ['GET /api/torrents/{id:\\d+}/download', `/api/torrents/${torrentId}/download`, { headers: auth() }],
      ['GET /api/user/me', '/api/user/me', { headers: auth() }],
      ['GET /api/user/{id:\\d+}/stats', `/api/user/${m.id}/stats`, { headers: auth() }],
      ['POST /api/auth/login', '/api/auth/login', postJson({ username: 'alice', password: 'correct horse battery' })],
      ['auth/login', '/jsonapi.php', postForm({ action: 'auth/login', username: 'alice', password: 'correct horse battery' })],
      ['torrent/search', '/jsonapi.php?action=torrent/search', { headers: auth() }],
      ['torrent/{id:\\d+}', `/jsonapi.php?action=torrent/${torrentId}`, { headers: auth() }],
      ['torrent/{id:\\d+}/files', `/jsonapi.php?action=torrent/${torrentId}/files`, { headers: auth() }],
      ['torrent/{id:\\d+}/peers', `/jsonapi.php?action=torrent/${torrentId}/peers`, { headers: auth() }],
      ['torrent/{id:\\d+}/thanks', '/jsonapi.php', postForm({ action: `torrent/${torrentId}/thanks` }, auth())],
      ['torrent/{id:\\d+}/magic', '/jsonapi.php', postForm({ action: `torrent/${torrentId}/magic`, value: '50' }, auth())],
      ['user/me', '/jsonapi.php?action=user/me', { headers: auth() }],
      ['site/fun/view[/{id:\\d+}]', `/jsonapi.php?action=site/fun/view/${funId}`, { headers: auth() }],
      ['site/fun/list', '/jsonapi.php?action=site/fun/list', { headers: auth() }],
      ['site/news', '/jsonapi.php?action=site/news', { headers: auth() }],
      ['site/info', '/jsonapi.php?action=site/info', { headers: auth() }],
    ];
    expect(cases.map(([route]) => route).sort()).toEqual(allRoutes.map((r) => (r.surface === 'rest' ? `${r.method} ${r.pattern}` : r.pattern)).sort());
    for (const [route, path, init] of cases) {
      seen.splice(0);
      const r = await http(t, path, init);
      expect([route, r.status]).toEqual([route, 200]);
      const doc = allRoutes.find((x) => (x.surface === 'rest' ? `${x.method} ${x.pattern}` : x.pattern) === route);
      const op = doc?.document.definitions[0];
      expect([route, seen]).toEqual([route, [op && 'name' in op ? op.name?.value : '?']]);
    }
  });
});
