/**
 * The API's defences (ECOSYSTEM.md §2.10, §2.11, §2.13): JWT pitfalls, credential precedence,
 * query limits, CSRF, batching, body size, error masking and rate limits.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/auth/jwt.ts';
import { executeOperation } from '../../src/graphql/execute.ts';
import { createUser } from '../../src/users/accounts.ts';
import { LoginDocument, MeDocument } from '../generated/graphql.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, codes, gql, startGraphQLApp, type Member } from './support.ts';

let t: TestApp;
let m: Member;
let secret: string;

async function post(body: unknown, headers: Record<string, string> = {}, app: TestApp = t): Promise<{ status: number; json: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }> {
  const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as never) : {} };
}

beforeAll(async () => {
  t = await startGraphQLApp();
  m = await aMember(t);
  secret = t.app.ctx.config.auth.jwtSecret;
});
afterAll(async () => {
  await t.stop();
});

function forge(payload: Record<string, unknown>, options: jwt.SignOptions = {}): string {
  return jwt.sign(payload, secret, { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE, subject: String(m.id), ...options });
}

describe('JWT pitfalls', () => {
  it('refuses alg:none', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: String(m.id), ver: 0, iss: JWT_ISSUER, aud: JWT_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    const r = await gql(t, MeDocument, {}, { token: `${header}.${body}.` });
    expect(codes(r)).toEqual(['UNAUTHORIZED']);
    expect(r.errors?.[0]?.extensions?.reason).toBe('INVALID_TOKEN');
  });

  it('refuses another algorithm with the same secret', async () => {
    expect(codes(await gql(t, MeDocument, {}, { token: forge({ ver: 0 }, { algorithm: 'HS512', expiresIn: 60 }) }))).toEqual(['UNAUTHORIZED']);
  });

  it('refuses a token without exp', async () => {
    expect(codes(await gql(t, MeDocument, {}, { token: forge({ ver: 0 }) }))).toEqual(['UNAUTHORIZED']);
  });

  it('refuses an expired token', async () => {
    expect(codes(await gql(t, MeDocument, {}, { token: forge({ ver: 0, exp: Math.floor(Date.now() / 1000) - 10 }) }))).toEqual(['UNAUTHORIZED']);
  });

  it('refuses a token signed with another secret', async () => {
    const other = jwt.sign({ ver: 0 }, 'x'.repeat(48), { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE, subject: String(m.id), expiresIn: 60 });
    expect(codes(await gql(t, MeDocument, {}, { token: other }))).toEqual(['UNAUTHORIZED']);
  });

  it('accepts a well-formed token, and refuses it once its version is bumped (revoked)', async () => {
    const good = forge({ ver: 0 }, { expiresIn: 60 });
    const u = await aMember(t);
    const tok = jwt.sign({ ver: 0 }, secret, { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE, subject: String(u.id), expiresIn: 60 });
    expect((await gql(t, MeDocument, {}, { token: good })).data?.me.id).toBe(String(m.id));
    await t.db.prisma.user.update({ where: { id: u.id }, data: { tokenVersion: 1 } });
    await t.app.ctx.users.reload(u.id);
    const r = await gql(t, MeDocument, {}, { token: tok });
    expect(r.errors?.[0]?.extensions?.reason).toBe('REVOKED_TOKEN');
  });

  it('prefers the Bearer over the cookie, and a bad Bearer does not fall back to a good cookie', async () => {
    const other = await aMember(t);
    const both = await gql(t, MeDocument, {}, { token: m.token, cookie: `ourbits_jwt=${other.token}` });
    expect(both.data?.me.id).toBe(String(m.id));
    const bad = await gql(t, MeDocument, {}, { token: 'garbage', cookie: `ourbits_jwt=${other.token}` });
    expect(codes(bad)).toEqual(['UNAUTHORIZED']);
  });

  it('ignores a token in the URL', async () => {
    const res = await fetch(`${t.url}/graphql?token=${m.token}&query=${encodeURIComponent('{ me { id } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
  });
});

describe('query limits', () => {
  it('bounds depth with BAD_USER_INPUT', async () => {
    const deep = '{ me { id } torrents { nodes { uploader { id } category { id } } } siteStats { users } categories { id } }';
    expect((await post({ query: deep }, { authorization: `Bearer ${m.token}` })).json.errors).toBeUndefined();
    const tooDeep = `{ __schema { types { ${'ofType { '.repeat(16)} name ${'} '.repeat(16)} } } }`;
    const r = await post({ query: tooDeep });
    expect(r.json.errors?.[0]?.message).toMatch(/depth/i);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('bounds aliases', async () => {
    const q = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: categories { id }`).join(' ')} }`;
    const r = await post({ query: q });
    expect(r.json.errors?.[0]?.message).toMatch(/alias/i);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('bounds the number of tokens', async () => {
    const q = `{ ${Array.from({ length: 2500 }, () => '__typename').join(' ')} }`;
    const r = await post({ query: q });
    expect(r.json.errors?.[0]?.message).toMatch(/token/i);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('bounds nested introspection lists (exponential fan-out)', async () => {
    const r = await post({ query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }' });
    expect(r.json.errors?.[0]?.message).toMatch(/introspection/i);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('allows the standard introspection query', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const r = await post({ query: getIntrospectionQuery() });
    expect(r.json.errors).toBeUndefined();
  });

  it('hides nothing behind field suggestions in errors but answers unknown fields with BAD_USER_INPUT', async () => {
    const r = await post({ query: '{ me { passky } }' }, { authorization: `Bearer ${m.token}` });
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('transport', () => {
  it('refuses batching', async () => {
    const r = await post([{ query: '{ categories { id } }' }, { query: '{ categories { id } }' }]);
    expect(r.status).toBe(400);
  });

  it('refuses a multipart mutation without a CSRF header (403) and GET mutations (405)', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: 'mutation { logout }' }));
    form.set('map', '{}');
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', body: form, headers: { cookie: `ourbits_jwt=${m.token}` } });
    expect(res.status).toBe(403);
    const get = await fetch(`${t.url}/graphql?query=${encodeURIComponent('mutation { logout }')}`, { headers: { 'x-graphql-yoga-csrf': '1', authorization: `Bearer ${m.token}` } });
    expect(get.status).toBe(405);
  });

  it('answers GET queries that carry the CSRF header', async () => {
    const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ categories { id } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(res.status).toBe(200);
  });

  it('refuses JSON bodies over 1 MB with 413', async () => {
    const r = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ categories { id } }', variables: { pad: 'x'.repeat(2_000_000) } }) });
    expect(r.status).toBe(413);
  });
});

describe('GraphiQL', () => {
  it('is served to browsers outside production, and not in production', async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
    const prod = await startGraphQLApp({ NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-with-enough-entropy-0123456789' });
    try {
      const res = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await res.text()).not.toMatch(/graphiql/i);
    } finally {
      await prod.stop();
    }
  });
});

describe('login enumeration', () => {
  it('gives byte-identical answers for an unknown user and a wrong password', async () => {
    await createUser(t.db.prisma, { username: 'enum_target', password: 'the real password' });
    const a = await post({ query: 'mutation { login(username: "nobody_here", password: "x1234567") { token } }' });
    const b = await post({ query: 'mutation { login(username: "enum_target", password: "x1234567") { token } }' });
    expect(JSON.stringify(a.json)).toBe(JSON.stringify(b.json));
  });
});

describe('executeOperation (in-process)', () => {
  it('runs a typed document with the caller credentials and returns Set-Cookie', async () => {
    await createUser(t.db.prisma, { username: 'inproc', password: 'in process pw' });
    const login = await executeOperation(t.app.ctx, LoginDocument, { username: 'inproc', password: 'in process pw' }, { clientIp: '192.0.2.1' });
    expect(login.errors).toEqual([]);
    expect(login.setCookies[0]).toMatch(/^ourbits_jwt=/);
    const me = await executeOperation(t.app.ctx, MeDocument, {}, { clientIp: '192.0.2.1', cookie: login.setCookies[0]?.split(';')[0] ?? '' });
    expect(me.data?.me.username).toBe('inproc');
    const anon = await executeOperation(t.app.ctx, MeDocument, {}, { clientIp: '192.0.2.1' });
    expect(anon.errors[0]?.extensions?.code).toBe('UNAUTHORIZED');
  });
});

describe('rate limits', () => {
  it('allows 5 auth attempts per 5 minutes per IP, then RATE_LIMITED with retryAfter', async () => {
    const limited = await startGraphQLApp({}, { rateLimits: { auth: { points: 5, duration: 300 } } });
    try {
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await gql(limited, LoginDocument, { username: 'nobody', password: 'whatever1' }));
      expect(results.slice(0, 5).map((r) => codes(r)[0])).toEqual(Array(5).fill('UNAUTHORIZED'));
      expect(codes(results[5] ?? {})).toEqual(['RATE_LIMITED']);
      expect(results[5]?.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(250);
    } finally {
      await limited.stop();
    }
  });

  it('allows 10 writes and 100 reads per minute per user', async () => {
    const limited = await startGraphQLApp({}, { rateLimits: { read: { points: 100, duration: 60 }, write: { points: 10, duration: 60 } } });
    try {
      const u = await aMember(limited);
      const other = await aMember(limited);
      const reads = await Promise.all(Array.from({ length: 101 }, () => gql(limited, MeDocument, {}, { token: u.token })));
      expect(reads.map((r) => codes(r)[0] ?? 'OK').filter((c) => c !== 'OK')).toEqual(['RATE_LIMITED']);
      expect((await gql(limited, MeDocument, {}, { token: other.token })).data?.me.id).toBe(String(other.id));
      const writes = [];
      for (let i = 0; i < 11; i++) writes.push(await post({ query: 'mutation { createInvite { code } }' }, { authorization: `Bearer ${other.token}` }, limited));
      expect(writes.map((w) => w.json.errors?.[0]?.extensions?.code ?? 'OK')).toEqual([...Array<string>(5).fill('OK'), ...Array<string>(5).fill('BAD_USER_INPUT'), 'RATE_LIMITED']);
    } finally {
      await limited.stop();
    }
  });
});

describe('masking', () => {
  it('masks unexpected errors as INTERNAL_ERROR without leaking the message', async () => {
    const { db } = t;
    // Break the query path: a torrents list whose raw query fails because the table is renamed.
    await db.exec('ALTER TABLE "categories" RENAME TO "categories_gone"');
    try {
      const r = await post({ query: '{ categories { id } }' });
      expect(r.json.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_ERROR' } });
      expect(JSON.stringify(r.json)).not.toMatch(/categories_gone|relation/);
    } finally {
      await db.exec('ALTER TABLE "categories_gone" RENAME TO "categories"');
    }
  });
});
