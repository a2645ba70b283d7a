/**
 * Users and accounts: `me`, `user(id)` with public statistics, sign-in (`login`, which also
 * sets the session cookie), `logout`, `register` with an invite, `changePassword`,
 * `resetPasskey`, and role/status management for admins and moderators.
 */
import { serialize as serializeCookie } from 'cookie';
import { Role, UserStatus } from '../../generated/prisma/enums.ts';
import { signSession } from '../../auth/jwt.ts';
import { hasRole } from '../../auth/viewer.ts';
import { changePassword, registerWithInvite, resetPasskey, revokeSessions, setUserCanLeech, setUserRole, setUserStatus, signIn, SignInRefused } from '../../users/sessions.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { badInput, forbidden, notFound, unauthorized } from '../errors.ts';
import { parseId, requireViewer, userChanged } from '../guards.ts';

export const RoleEnum = builder.enumType(Role, { name: 'Role' });
export const UserStatusEnum = builder.enumType(UserStatus, { name: 'UserStatus' });

/** Seconds since the last announce for a snatch to count as active (seeding or leeching). */
function activeSince(ctx: GraphQLContext): Date {
  const ttl = ctx.app.config.tracker.interval + ctx.app.config.tracker.peerGrace;
  return new Date(ctx.app.clock.now() - ttl * 1000);
}

/** The account a moderator acts on: it exists, is not the viewer's own, and is below the viewer's role. */
async function moderatedUser(ctx: GraphQLContext, userId: string | number, ownMessage: string): Promise<number> {
  const viewer = requireViewer(ctx);
  const id = parseId(userId, 'userId');
  const target = await ctx.app.users.byIdOrLoad(id);
  if (!target) throw notFound('user');
  if (id === viewer.id) throw badInput(ownMessage);
  if (hasRole(target.role, viewer.role)) throw forbidden('you can only moderate accounts below your own role');
  return id;
}

export const UserRef = builder.prismaObject('User', {
  // Select mode: only requested columns (never the password hash).
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    role: t.expose('role', { type: RoleEnum }),
    joinedAt: t.expose('createdAt', { type: 'DateTime' }),
    uploaded: t.expose('uploaded', { type: 'BigInt' }),
    downloaded: t.expose('downloaded', { type: 'BigInt' }),
    ratio: t.float({
      nullable: true,
      description: 'uploaded / downloaded; null when nothing was downloaded yet',
      select: { uploaded: true, downloaded: true },
      resolve: (u) => (u.downloaded === 0n ? null : Math.round((Number(u.uploaded) / Number(u.downloaded)) * 1000) / 1000),
    }),
    bonus: t.exposeFloat('bonus'),
    seeding: t.relationCount('snatches', {
      description: 'Torrents this user announced as a seeder within the last announce interval',
      where: (_args, ctx) => ({ completedAt: { not: null }, lastAnnounceAt: { gte: activeSince(ctx) } }),
    }),
    leeching: t.relationCount('snatches', {
      description: 'Torrents this user announced as a leecher within the last announce interval',
      where: (_args, ctx) => ({ completedAt: null, lastAnnounceAt: { gte: activeSince(ctx) } }),
    }),
    uploadedTorrents: t.relationCount('torrents', { where: { status: 'ACTIVE', anonymous: false } }),
    lastAnnounceAt: t.expose('lastAnnounceAt', { type: 'DateTime', nullable: true }),
    // Private fields: the user themself, or staff.
    passkey: t.exposeString('passkey', { authScopes: (u) => ({ ownerOf: u.id }) }),
    rssUrl: t.string({
      description: 'Your RSS feed (qBittorrent, autobrr): the newest torrents, each with a download URL carrying your passkey. Resetting the passkey replaces it',
      authScopes: (u) => ({ ownerOf: u.id }),
      select: { passkey: true },
      resolve: (u, _a, ctx) => `${ctx.app.config.publicUrl}/rss?passkey=${u.passkey}`,
    }),
    torznabUrl: t.string({
      description: 'Torznab indexer URL for Prowlarr, Sonarr, Radarr and autobrr ("Generic Torznab": API path /api, API key = your passkey)',
      authScopes: (u) => ({ ownerOf: u.id }),
      resolve: (_u, _a, ctx) => `${ctx.app.config.publicUrl}/torznab`,
    }),
    email: t.exposeString('email', { nullable: true, authScopes: (u) => ({ ownerOf: u.id, moderator: true }) }),
    status: t.expose('status', { type: UserStatusEnum, authScopes: (u) => ({ ownerOf: u.id, moderator: true }) }),
    canLeech: t.exposeBoolean('canLeech', { authScopes: (u) => ({ ownerOf: u.id, moderator: true }) }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'User',
    authScopes: { user: true },
    description: 'The signed-in user',
    resolve: async (query, _root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      const user = await ctx.prisma.user.findUnique({ ...query, where: { id: viewer.id } });
      if (!user) throw unauthorized();
      return user;
    },
  }),
  user: t.prismaField({
    type: 'User',
    args: { id: t.arg.id({ required: true }) },
    description: 'A user by id with public statistics',
    resolve: async (query, _root, args, ctx) => {
      const user = await ctx.prisma.user.findUnique({ ...query, where: { id: parseId(args.id) } });
      if (!user) throw notFound('user');
      return user;
    },
  }),
}));

interface AuthUserShape {
  id: string;
  username: string;
  role: Role;
}

const AuthUser = builder.objectRef<AuthUserShape>('AuthUser').implement({
  fields: (t) => ({ id: t.exposeID('id'), username: t.exposeString('username'), role: t.expose('role', { type: RoleEnum }) }),
});

export const AuthPayload = builder.objectRef<{ token: string; expiresAt: Date; user: AuthUserShape }>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'A JWT for `Authorization: Bearer`; also set as the session cookie' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    user: t.expose('user', { type: AuthUser }),
  }),
});

function sessionCookie(ctx: GraphQLContext, token: string, maxAge: number): string {
  const { cookieName, cookieSecure } = ctx.app.config.auth;
  return serializeCookie(cookieName, token, { httpOnly: true, sameSite: 'lax', path: '/', secure: cookieSecure, maxAge });
}

/** Signs the user in: a session token, also set as the cookie. */
export function issue(ctx: GraphQLContext, user: { id: number; username: string; tokenVersion: number }) {
  const { token, expiresAt } = signSession(ctx.app.config.auth, user.id, user.tokenVersion);
  ctx.setCookies.push(sessionCookie(ctx, token, ctx.app.config.auth.jwtTtlSeconds));
  const role = ctx.app.users.byId(user.id)?.role ?? 'USER';
  return { token, expiresAt: new Date(expiresAt * 1000), user: { id: String(user.id), username: user.username, role } };
}

const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  fields: (t) => ({ currentPassword: t.string({ required: true }), newPassword: t.string({ required: true }) }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    inviteCode: t.string({ required: true }),
    username: t.string({ required: true }),
    password: t.string({ required: true }),
    email: t.string(),
  }),
});

builder.mutationFields((t) => ({
  login: t.field({
    type: AuthPayload,
    args: { username: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    description: 'Signs in: returns a JWT and sets the session cookie (HttpOnly, SameSite=Lax)',
    resolve: async (_root, args, ctx) => {
      try {
        const user = await signIn({ prisma: ctx.prisma, events: ctx.app.events }, args.username, args.password);
        await ctx.app.users.byIdOrLoad(user.id);
        return issue(ctx, user);
      } catch (err) {
        if (err instanceof SignInRefused) throw unauthorized(err.message, err.reason === 'ACCOUNT_INACTIVE' ? { reason: err.reason } : {});
        throw err;
      }
    },
  }),
  register: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    description: 'Creates an account with an invite code and signs it in',
    resolve: async (_root, { input }, ctx) => {
      const user = await registerWithInvite({ prisma: ctx.prisma, events: ctx.app.events }, input, new Date(ctx.app.clock.now()));
      await userChanged(ctx, user.id);
      return issue(ctx, user);
    },
  }),
  logout: t.boolean({
    authScopes: { user: true },
    description: 'Revokes every session token of the signed-in user and clears the cookie',
    resolve: async (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      await revokeSessions({ prisma: ctx.prisma, events: ctx.app.events }, viewer.id);
      await userChanged(ctx, viewer.id);
      ctx.setCookies.push(sessionCookie(ctx, '', 0));
      return true;
    },
  }),
  changePassword: t.field({
    type: AuthPayload,
    authScopes: { user: true },
    args: { input: t.arg({ type: ChangePasswordInput, required: true }) },
    description: 'Changes the password, revokes all other sessions and returns a new token',
    resolve: async (_root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const { tokenVersion } = await changePassword({ prisma: ctx.prisma, events: ctx.app.events }, viewer.id, input.currentPassword, input.newPassword);
      await userChanged(ctx, viewer.id);
      return issue(ctx, { id: viewer.id, username: viewer.username, tokenVersion });
    },
  }),
  resetPasskey: t.prismaField({
    type: 'User',
    authScopes: { user: true },
    description: 'Replaces the passkey; the tracker refuses the old one at once',
    resolve: async (query, _root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      await resetPasskey({ prisma: ctx.prisma, events: ctx.app.events }, viewer.id);
      await userChanged(ctx, viewer.id);
      return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: viewer.id } });
    },
  }),
  setUserStatus: t.prismaField({
    type: 'User',
    authScopes: { moderator: true },
    args: { userId: t.arg.id({ required: true }), status: t.arg({ type: UserStatusEnum, required: true }) },
    description: 'Bans, disables or reinstates an account (moderators and admins); revokes its tokens and passkey use at once',
    resolve: async (query, _root, args, ctx) => {
      const id = await moderatedUser(ctx, args.userId, 'you cannot change your own status');
      await setUserStatus({ prisma: ctx.prisma, events: ctx.app.events }, id, args.status);
      await userChanged(ctx, id);
      return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  setUserCanLeech: t.prismaField({
    type: 'User',
    authScopes: { moderator: true },
    args: { userId: t.arg.id({ required: true }), canLeech: t.arg.boolean({ required: true }) },
    description: 'Grants or takes away download privileges (moderators and admins), e.g. restoring them after the tracker revoked them for impossible upload reports; seeding is never blocked',
    resolve: async (query, _root, args, ctx) => {
      const id = await moderatedUser(ctx, args.userId, 'you cannot change your own download privileges');
      await setUserCanLeech({ prisma: ctx.prisma, events: ctx.app.events }, id, args.canLeech);
      await userChanged(ctx, id);
      return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  setUserRole: t.prismaField({
    type: 'User',
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }), role: t.arg({ type: RoleEnum, required: true }) },
    description: 'Changes the role of an account (admins)',
    resolve: async (query, _root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const id = parseId(args.userId, 'userId');
      if (id === viewer.id) throw badInput('you cannot change your own role');
      if (!(await ctx.app.users.byIdOrLoad(id))) throw notFound('user');
      await setUserRole({ prisma: ctx.prisma, events: ctx.app.events }, id, args.role);
      await userChanged(ctx, id);
      return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
}));
