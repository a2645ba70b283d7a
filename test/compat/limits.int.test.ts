/**
 * Rate limits and failures of the compat layer over real HTTP: GraphQL's read and auth limits
 * surface as REST 429 + Retry-After and jsonapi 42901; jsonapi's own limits (5/min per IP
 * without credentials, 10/min per user and action, torrent search 5/min) with a forged token
 * unable to spend someone else's budget; internal errors as REST 500 / jsonapi 99999; and one
 * refusal seen the same on all three surfaces (ECOSYSTEM API9).
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { afterEach, describe, expect, it } from 'vitest';
import { createUser } from '../../src/users/accounts.ts';
import { createCompatModule } from '../../compat/module.ts';
import type { CompatExecutor } from '../../compat/execute.ts';
import { jsonapiCode, jsonapiStatus, pickError, restError } from '../../compat/shapes/errors.ts';
import { createGraphQLModule } from '../../src/graphql/module.ts';
import { aTorrent } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { aMember, GENEROUS } from '../graphql/support.ts';
import { countingExecutor, GENEROUS_JSONAPI, http, postForm, postJson, startCompatApp } from './support.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

const fail = (errorCode: number, errorMsg: string) => ({ success: false, data: null, errorCode, errorMsg });
const RATE = fail(42901, 'Too many requests. Please try again later.');
const REST_RATE = { error: { code: 'RATE_LIMITED', message: 'Too many requests. Please try again later.' } };

describe('GraphQL limits through the shims', () => {
  it('read limit → REST 429 with Retry-After and the seed body; jsonapi 42901 with Retry-After', async () => {
    ({ t } = await startCompatApp({ graphql: { rateLimits: { ...GENEROUS, read: { points: 3, duration: 60 } } }, compat: { jsonapiLimits: GENEROUS_JSONAPI } }));
    const m = await aMember(t);
    for (let i = 0; i < 3; i++) expect((await http(t, '/api/user/me', { token: m.token })).status).toBe(200);
    const r = await http(t, '/api/torrents', { token: m.token });
    expect([r.status, r.headers.get('content-type'), r.json]).toEqual([429, 'application/json; charset=utf-8', REST_RATE]);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const j = await http(t, '/jsonapi.php?action=user/me', { token: m.token });
    expect([j.status, j.json]).toEqual([429, { ...RATE, errorMsg: expect.stringMatching(/^too many read requests; retry in \d+ s$/) as unknown }]);
    expect(Number(j.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('auth limit (per IP) → REST login 429 with a Retry-After of up to 5 minutes', async () => {
    ({ t } = await startCompatApp({ graphql: { rateLimits: { ...GENEROUS, auth: { points: 2, duration: 300 } } } }));
    await createUser(t.db.prisma, { username: 'alice', password: 'correct horse battery' });
    for (let i = 0; i < 2; i++) expect((await http(t, '/api/auth/login', postJson({ username: 'alice', password: 'wrong password' }))).status).toBe(401);
    const r = await http(t, '/api/auth/login', postJson({ username: 'alice', password: 'correct horse battery' }));
    expect([r.status, r.json]).toEqual([429, REST_RATE]);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(300);
    expect(r.headers.getSetCookie()).toEqual([]);
  });
});

describe('jsonapi limits (seed: 5/min per IP without credentials, 10/min per user and action, search 5/min)', () => {
  it('without credentials: the 6th request in a minute from one IP → 42901 (HTTP 429, Retry-After)', async () => {
    ({ t } = await startCompatApp());
    for (let i = 0; i < 5; i++) expect(((await http(t, '/jsonapi.php?action=site/info')).json as { errorCode: number }).errorCode).toBe(40101);
    const r = await http(t, '/jsonapi.php', postForm({ action: 'auth/login', username: 'a', password: 'b' }));
    expect([r.status, r.json]).toEqual([429, RATE]);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('with credentials: 10 per user and action; other actions and other users keep their budgets; a forged token spends only its IP budget', async () => {
    ({ t } = await startCompatApp());
    const a = await aMember(t);
    const b = await aMember(t);
    for (let i = 0; i < 10; i++) expect((await http(t, '/jsonapi.php?action=user/me', { token: a.token })).status).toBe(200);
    expect(await http(t, '/jsonapi.php?action=user/me', { token: a.token }).then((r) => [r.status, r.json])).toEqual([429, RATE]);
    expect((await http(t, '/jsonapi.php?action=site/info', { token: a.token })).status).toBe(200);
    expect((await http(t, '/jsonapi.php?action=user/me', { token: b.token })).status).toBe(200);
    // Same user, another torrent id: the budget is per action pattern, not per URL.
    const tor = await aTorrent(t.db, b.id);
    for (let i = 0; i < 10; i++) expect((await http(t, `/jsonapi.php?action=torrent/${tor.id}`, { token: a.token })).status).toBe(200);
    expect((await http(t, `/jsonapi.php?action=torrent/${tor.id + 1000}`, { token: a.token })).json).toEqual(RATE);
    // A token claiming b's id with a bad signature: refused by GraphQL, limited as anonymous.
    const [h, p] = b.token.split('.');
    const forged = `${h}.${p}.${'A'.repeat(43)}`;
    for (let i = 0; i < 5; i++) expect(((await http(t, '/jsonapi.php?action=user/me', { token: forged })).json as { errorCode: number }).errorCode).toBe(40101);
    expect((await http(t, '/jsonapi.php?action=user/me', { token: forged })).json).toEqual(RATE);
    for (let i = 0; i < 9; i++) expect((await http(t, '/jsonapi.php?action=user/me', { token: b.token })).status).toBe(200);
  });

  it('torrent search: 5 per minute per user', async () => {
    ({ t } = await startCompatApp());
    const a = await aMember(t);
    for (let i = 0; i < 5; i++) expect((await http(t, '/jsonapi.php?action=torrent/search', { token: a.token })).status).toBe(200);
    expect(await http(t, '/jsonapi.php?action=torrent/search&search=x', { token: a.token }).then((r) => [r.status, r.json])).toEqual([429, RATE]);
  });

  it('the limiter store is injectable', async () => {
    const names: string[] = [];
    ({ t } = await startCompatApp({
      compat: {
        jsonapiLimits: {
          factory: (name, rule) => {
            names.push(`${name}:${rule.points}/${rule.duration}`);
            return new RateLimiterMemory({ keyPrefix: name, points: 1, duration: rule.duration });
          },
        },
      },
    }));
    const a = await aMember(t);
    expect((await http(t, '/jsonapi.php?action=user/me', { token: a.token })).status).toBe(200);
    expect((await http(t, '/jsonapi.php?action=user/me', { token: a.token })).json).toEqual(RATE);
    expect(names).toEqual(['jsonapi:anon:5/60', 'jsonapi:user:10:10/60']);
  });
});

describe.skipIf(!process.env.REDIS_URL)('jsonapi limits on the shared Redis', () => {
  it('uses Redis when the app has it, so processes share the budget', async () => {
    const { execute } = countingExecutor();
    t = await startTestApp({}, { modules: [createCompatModule({ execute }), createGraphQLModule({ rateLimits: GENEROUS })], timers: false, swarmBackend: 'redis' });
    for (let i = 0; i < 5; i++) expect(((await http(t, '/jsonapi.php?action=site/info')).json as { errorCode: number }).errorCode).toBe(40101);
    expect((await http(t, '/jsonapi.php?action=site/info')).json).toEqual(RATE);
    const { Redis } = await import('ioredis');
    const r = new Redis(process.env.REDIS_URL as string);
    try {
      expect(await r.keys(`${t.config.redisPrefix}:rl:compat:jsonapi:anon*`)).toHaveLength(1);
    } finally {
      r.disconnect();
    }
  });
});

describe('internal errors', () => {
  it('an INTERNAL_ERROR from GraphQL → REST 500 and jsonapi 99999 (HTTP 500) with a generic message', async () => {
    const broken: CompatExecutor = () => Promise.resolve({ data: null, errors: [{ message: 'db exploded at 10.0.0.1', extensions: { code: 'INTERNAL_ERROR' } }], status: 200, headers: new Headers(), setCookies: [] });
    t = await startTestApp({}, { modules: [createCompatModule({ execute: broken, jsonapiLimits: GENEROUS_JSONAPI }), createGraphQLModule({ rateLimits: GENEROUS })], timers: false });
    const m = await aMember(t);
    const r = await http(t, '/api/user/me', { token: m.token });
    expect([r.status, r.json]).toEqual([500, { error: { code: 'INTERNAL_ERROR', message: 'Unexpected error.' } }]);
    const j = await http(t, '/jsonapi.php?action=user/me', { token: m.token });
    expect([j.status, j.json]).toEqual([500, fail(99999, 'Unexpected error.')]);
  });

  it('an executor that throws → REST 500 and jsonapi 99999', async () => {
    const throwing: CompatExecutor = () => Promise.reject(new Error('boom'));
    t = await startTestApp({}, { modules: [createCompatModule({ execute: throwing, jsonapiLimits: GENEROUS_JSONAPI }), createGraphQLModule({ rateLimits: GENEROUS })], timers: false });
    const m = await aMember(t);
    expect(await http(t, '/api/user/me', { token: m.token }).then((r) => [r.status, r.json])).toEqual([500, { error: { code: 'INTERNAL_ERROR', message: 'Unexpected error.' } }]);
    expect(await http(t, '/jsonapi.php?action=user/me', { token: m.token }).then((r) => [r.status, r.json])).toEqual([500, fail(99999, 'Unexpected error.')]);
  });
});

describe('API9: one refusal, three surfaces', () => {
  it('a pending torrent of another user is not found on GraphQL, REST and jsonapi alike', async () => {
    ({ t } = await startCompatApp({ compat: { jsonapiLimits: GENEROUS_JSONAPI } }));
    const owner = await aMember(t, { role: 'UPLOADER' });
    const other = await aMember(t);
    const id = (await aTorrent(t.db, owner.id, { status: 'PENDING' })).id;
    const g = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${other.token}` }, body: JSON.stringify({ query: `{ torrent(id: "${id}") { id } }` }) });
    expect(((await g.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('NOT_FOUND');
    expect((await http(t, `/api/torrents/${id}`, { token: other.token })).status).toBe(404);
    expect(((await http(t, `/jsonapi.php?action=torrent/${id}/files`, { token: other.token })).json as { errorCode: number }).errorCode).toBe(40002);
  });
});

describe('error mapping (pure)', () => {
  it('maps every GraphQL code to the REST status and the jsonapi code', () => {
    const cases: Array<[string, number, number, string | null]> = [
      ['BAD_USER_INPUT', 400, 40001, null],
      ['UNAUTHORIZED', 401, 40101, null],
      ['UNAUTHORIZED', 401, 40102, 'ACCOUNT_INACTIVE'],
      ['FORBIDDEN', 403, 40003, null],
      ['NOT_FOUND', 404, 40002, null],
      ['RATE_LIMITED', 429, 42901, null],
      ['INTERNAL_ERROR', 500, 99999, null],
      ['SOMETHING_ELSE', 500, 99999, null],
    ];
    for (const [code, status, legacy, reason] of cases) {
      const e = pickError([{ message: 'm', extensions: { code, ...(reason ? { reason } : {}) } }]);
      expect(e).not.toBeNull();
      if (!e) continue;
      expect(restError(e.code, e.message).status).toBe(status);
      expect(jsonapiCode(e)).toBe(legacy);
    }
    expect(restError('FORBIDDEN', 'not allowed for your account').body).toEqual({ error: { code: 'FORBIDDEN', message: 'not allowed for your account' } });
    expect(pickError([{ message: 'x', extensions: { code: 'NOT_FOUND' } }, { message: 'y', extensions: { code: 'RATE_LIMITED', retryAfter: 7 } }])).toEqual({ code: 'RATE_LIMITED', message: 'y', reason: null, retryAfter: 7 });
    expect([jsonapiStatus(40001), jsonapiStatus(40002), jsonapiStatus(40003), jsonapiStatus(40101), jsonapiStatus(40102), jsonapiStatus(42901), jsonapiStatus(49901), jsonapiStatus(99999)]).toEqual([400, 400, 400, 401, 401, 429, 400, 500]);
  });
});
