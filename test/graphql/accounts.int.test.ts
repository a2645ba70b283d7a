import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, createInvite } from '../../src/users/accounts.ts';
import { ChangePasswordDocument, LoginDocument, LogoutDocument, MeDocument, RegisterDocument, ResetPasskeyDocument, SetUserRoleDocument, SetUserStatusDocument, UserPrivateDocument, UserStatsDocument } from '../generated/graphql.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, codes, gql, startGraphQLApp } from './support.ts';

let t: TestApp;
/** The user row, then its three relation counts (seeding, leeching, uploaded torrents) in one. */
const STATS_STATEMENTS = 2;
beforeAll(async () => {
  t = await startGraphQLApp();
});
afterAll(async () => {
  await t.stop();
});

describe('accounts', () => {
  describe('login', () => {
    it('returns a token and the user, and sets an HttpOnly SameSite=Lax session cookie', async () => {
      await createUser(t.db.prisma, { username: 'Alice', password: 'correct horse battery' });
      const r = await gql(t, LoginDocument, { username: 'alice', password: 'correct horse battery' });
      expect(r.errors).toBeUndefined();
      expect(r.data?.login.user.username).toBe('Alice');
      expect(r.data?.login.token.split('.')).toHaveLength(3);
      const cookie = r.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^ourbits_jwt=[\w.-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
      const me = await gql(t, MeDocument, {}, { token: r.data?.login.token ?? '' });
      expect(me.data?.me.username).toBe('Alice');
      const viaCookie = await gql(t, MeDocument, {}, { cookie: cookie.split(';')[0] ?? '' });
      expect(viaCookie.data?.me.username).toBe('Alice');
    });

    it('answers an unknown user and a wrong password with the same error', async () => {
      const unknown = await gql(t, LoginDocument, { username: 'nobody', password: 'whatever1' });
      const wrong = await gql(t, LoginDocument, { username: 'alice', password: 'whatever1' });
      expect(codes(unknown)).toEqual(['UNAUTHORIZED']);
      expect(unknown.errors).toEqual(wrong.errors);
      expect(unknown.data).toEqual(wrong.data);
    });

    it('does not treat LIKE wildcards in the username as patterns', async () => {
      await createUser(t.db.prisma, { username: 'axxb', password: 'password-of-axxb' });
      const r = await gql(t, LoginDocument, { username: '____', password: 'password-of-axxb' });
      expect(codes(r)).toEqual(['UNAUTHORIZED']);
    });
  });

  describe('me', () => {
    it('is UNAUTHORIZED without credentials', async () => {
      const r = await gql(t, MeDocument);
      expect(codes(r)).toEqual(['UNAUTHORIZED']);
    });

    it('returns the counters as decimal strings and the passkey', async () => {
      const m = await aMember(t);
      await t.db.prisma.user.update({ where: { id: m.id }, data: { uploaded: 2n ** 62n, downloaded: 2n ** 61n, bonus: 12.5 } });
      const r = await gql(t, MeDocument, {}, { token: m.token });
      expect(r.data?.me).toMatchObject({ id: String(m.id), passkey: m.passkey, uploaded: String(2n ** 62n), downloaded: String(2n ** 61n), ratio: 2, bonus: 12.5, role: 'USER', status: 'ACTIVE' });
    });
  });

  describe('query counts', () => {
    it('reads me in one statement and a user with its stats in a fixed number', async () => {
      const a = await aMember(t);
      let before = t.db.queries.total;
      expect((await gql(t, MeDocument, {}, { token: a.token })).data?.me.id).toBe(String(a.id));
      const me = t.db.queries.total - before;
      before = t.db.queries.total;
      expect((await gql(t, UserStatsDocument, { id: String(a.id) }, { token: a.token })).data?.user.id).toBe(String(a.id));
      const stats = t.db.queries.total - before;
      expect({ me, stats }).toEqual({ me: 1, stats: STATS_STATEMENTS });
    });
  });

  describe('session cookie behind HTTPS', () => {
    it('is Secure when PUBLIC_URL is https', async () => {
      const https = await startGraphQLApp({ PUBLIC_URL: 'https://tracker.example' });
      try {
        await createUser(https.db.prisma, { username: 'secure_user', password: 'a fine password' });
        const r = await gql(https, LoginDocument, { username: 'secure_user', password: 'a fine password' });
        expect(r.headers.get('set-cookie')).toMatch(/; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      } finally {
        await https.stop();
      }
    });
  });

  describe('user(id)', () => {
    it('shows public stats to members and hides the passkey of others', async () => {
      const a = await aMember(t);
      const b = await aMember(t);
      const stats = await gql(t, UserStatsDocument, { id: String(b.id) }, { token: a.token });
      expect(stats.data?.user).toMatchObject({ id: String(b.id), uploaded: '0', downloaded: '0', ratio: null, seeding: 0, leeching: 0 });
      const priv = await gql(t, UserPrivateDocument, { id: String(b.id) }, { token: a.token });
      expect(codes(priv)).toEqual(['FORBIDDEN']);
      const own = await gql(t, UserPrivateDocument, { id: String(b.id) }, { token: b.token });
      expect(own.data?.user.passkey).toBe(b.passkey);
    });

    it('answers NOT_FOUND for an unknown id and BAD_USER_INPUT for a malformed one', async () => {
      const a = await aMember(t);
      expect(codes(await gql(t, UserStatsDocument, { id: '999999' }, { token: a.token }))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(t, UserStatsDocument, { id: '1 OR 1=1' }, { token: a.token }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('logout', () => {
    it('revokes the token at once (Bearer and cookie) and clears the cookie', async () => {
      const m = await aMember(t);
      const out = await gql(t, LogoutDocument, {}, { token: m.token });
      expect(out.data?.logout).toBe(true);
      expect(out.headers.get('set-cookie')).toMatch(/^ourbits_jwt=; Max-Age=0/);
      const again = await gql(t, MeDocument, {}, { token: m.token });
      expect(codes(again)).toEqual(['UNAUTHORIZED']);
      expect(again.errors?.[0]?.extensions?.reason).toBe('REVOKED_TOKEN');
      expect(codes(await gql(t, MeDocument, {}, { cookie: `ourbits_jwt=${m.token}` }))).toEqual(['UNAUTHORIZED']);
    });
  });

  describe('register', () => {
    it('creates an account with an unused invite, once', async () => {
      const inviter = await aMember(t);
      const { code } = await createInvite(t.db.prisma, inviter.id);
      const r = await gql(t, RegisterDocument, { input: { inviteCode: code, username: 'newbie', password: 'a long password' } });
      expect(r.errors).toBeUndefined();
      expect(r.data?.register.user.username).toBe('newbie');
      const again = await gql(t, RegisterDocument, { input: { inviteCode: code, username: 'newbie2', password: 'a long password' } });
      expect(codes(again)).toEqual(['BAD_USER_INPUT']);
      const bad = await gql(t, RegisterDocument, { input: { inviteCode: 'nope', username: 'newbie3', password: 'a long password' } });
      expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('changePassword', () => {
    it('needs the current password, revokes old tokens and returns a working new one', async () => {
      const u = await createUser(t.db.prisma, { username: 'changer', password: 'first password' });
      await t.app.ctx.users.reload(u.id);
      const login = await gql(t, LoginDocument, { username: 'changer', password: 'first password' });
      const old = login.data?.login.token ?? '';
      expect(codes(await gql(t, ChangePasswordDocument, { input: { currentPassword: 'wrong one!', newPassword: 'second password' } }, { token: old }))).toEqual(['BAD_USER_INPUT']);
      const changed = await gql(t, ChangePasswordDocument, { input: { currentPassword: 'first password', newPassword: 'second password' } }, { token: old });
      expect(changed.errors).toBeUndefined();
      expect(codes(await gql(t, MeDocument, {}, { token: old }))).toEqual(['UNAUTHORIZED']);
      expect((await gql(t, MeDocument, {}, { token: changed.data?.changePassword.token ?? '' })).data?.me.username).toBe('changer');
    });
  });

  describe('resetPasskey', () => {
    it('replaces the passkey and the tracker cache forgets the old one at once', async () => {
      const m = await aMember(t);
      const r = await gql(t, ResetPasskeyDocument, {}, { token: m.token });
      const next = r.data?.resetPasskey.passkey ?? '';
      expect(next).toMatch(/^[0-9a-f]{32}$/);
      expect(next).not.toBe(m.passkey);
      expect(t.app.ctx.users.peekPasskey(m.passkey)).toBeUndefined();
      expect(t.app.ctx.users.peekPasskey(next)?.id).toBe(m.id);
    });
  });

  describe('moderation', () => {
    it('lets moderators ban users below them, which revokes their tokens at once', async () => {
      const mod = await aMember(t, { role: 'MODERATOR' });
      const user = await aMember(t);
      const r = await gql(t, SetUserStatusDocument, { userId: String(user.id), status: 'BANNED' }, { token: mod.token });
      expect(r.data?.setUserStatus.status).toBe('BANNED');
      expect(t.app.ctx.users.byId(user.id)?.status).toBe('BANNED');
      const me = await gql(t, MeDocument, {}, { token: user.token });
      expect(codes(me)).toEqual(['UNAUTHORIZED']);
      expect(me.errors?.[0]?.extensions?.reason).toBe('ACCOUNT_INACTIVE');
    });

    it('refuses users, and moderators acting on their peers', async () => {
      const user = await aMember(t);
      const mod = await aMember(t, { role: 'MODERATOR' });
      const mod2 = await aMember(t, { role: 'MODERATOR' });
      expect(codes(await gql(t, SetUserStatusDocument, { userId: String(mod.id), status: 'BANNED' }, { token: user.token }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t, SetUserStatusDocument, { userId: String(mod2.id), status: 'BANNED' }, { token: mod.token }))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t, SetUserStatusDocument, { userId: String(mod2.id), status: 'BANNED' }))).toEqual(['UNAUTHORIZED']);
    });

    it('lets only admins change roles', async () => {
      const admin = await aMember(t, { role: 'ADMIN' });
      const mod = await aMember(t, { role: 'MODERATOR' });
      const user = await aMember(t);
      expect(codes(await gql(t, SetUserRoleDocument, { userId: String(user.id), role: 'UPLOADER' }, { token: mod.token }))).toEqual(['FORBIDDEN']);
      const r = await gql(t, SetUserRoleDocument, { userId: String(user.id), role: 'UPLOADER' }, { token: admin.token });
      expect(r.data?.setUserRole.role).toBe('UPLOADER');
      expect(t.app.ctx.users.byId(user.id)?.role).toBe('UPLOADER');
    });
  });
});
