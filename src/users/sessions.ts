/**
 * Account operations behind the API: sign-in, registration with an invite, password and
 * passkey changes, logout, and moderation of roles and status. Every write that the tracker
 * or the session check depends on (passkey, status, role, tokenVersion) publishes
 * `user.changed` after it commits, so the caches refuse an old passkey or token at once.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Role, UserStatus } from '../generated/prisma/enums.ts';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from '../auth/passwords.ts';
import type { EventBus } from '../shared/events.ts';
import { AccountError, createUser, newPasskey, normaliseUsername } from './accounts.ts';

export class SignInRefused extends Error {
  override name = 'SignInRefused';
  constructor(readonly reason: 'BAD_CREDENTIALS' | 'ACCOUNT_INACTIVE') {
    super(reason === 'BAD_CREDENTIALS' ? 'wrong username or password' : 'this account is banned or disabled');
  }
}

export interface AccountDeps {
  prisma: PrismaClient;
  events: EventBus;
}

/** The same error (and one hash verification) whether the user is unknown or the password wrong. */
export async function signIn(deps: AccountDeps, username: string, password: string): Promise<{ id: number; username: string; tokenVersion: number }> {
  const lower = normaliseUsername(username);
  const user = lower.length > 0 && lower.length <= 64 ? await deps.prisma.user.findUnique({ where: { usernameLower: lower }, select: { id: true, username: true, passwordHash: true, status: true, tokenVersion: true } }) : null;
  const ok = await verifyPassword(user?.passwordHash ?? null, password.slice(0, 1024));
  if (!user || !ok) throw new SignInRefused('BAD_CREDENTIALS');
  if (user.status !== 'ACTIVE') throw new SignInRefused('ACCOUNT_INACTIVE');
  if (needsRehash(user.passwordHash)) await upgradeHash(deps, user.id, user.passwordHash, password.slice(0, 1024));
  return { id: user.id, username: user.username, tokenVersion: user.tokenVersion };
}

/** An imported hash (auth/passwords.ts) becomes ours; unless the password changed meanwhile. */
async function upgradeHash(deps: AccountDeps, userId: number, old: string, password: string): Promise<void> {
  await deps.prisma.user.updateMany({ where: { id: userId, passwordHash: old }, data: { passwordHash: await hashPassword(password) } });
}

export async function registerWithInvite(deps: AccountDeps, input: { inviteCode: string; username: string; password: string; email?: string | null }, now: Date): Promise<{ id: number; username: string; tokenVersion: number }> {
  // UNIT3D's codes are UUIDs, imported without their dashes (src/import/).
  const code = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(input.inviteCode) ? input.inviteCode.replaceAll('-', '').toLowerCase() : input.inviteCode;
  const invite = /^[0-9a-f]{32}$/.test(code) ? await deps.prisma.invite.findUnique({ where: { code } }) : null;
  if (!invite || invite.usedAt !== null || invite.expiresAt.getTime() <= now.getTime()) throw new AccountError('the invite code is unknown, used or expired');
  const user = await createUser(deps.prisma, { username: input.username, password: input.password, email: input.email ?? null, invitedById: invite.inviterId });
  // Claim the invite; a concurrent registration with the same code loses here.
  const claimed = await deps.prisma.invite.updateMany({ where: { id: invite.id, usedAt: null }, data: { usedAt: now, inviteeId: user.id } });
  if (claimed.count !== 1) {
    await deps.prisma.user.delete({ where: { id: user.id } });
    throw new AccountError('the invite code is unknown, used or expired');
  }
  deps.events.publish({ type: 'user.changed', userId: user.id });
  return { id: user.id, username: user.username, tokenVersion: 0 };
}

/** Revokes every session token of the user. */
export async function revokeSessions(deps: AccountDeps, userId: number): Promise<void> {
  await deps.prisma.user.update({ where: { id: userId }, data: { tokenVersion: { increment: 1 } }, select: { id: true } });
  deps.events.publish({ type: 'user.changed', userId });
}

export async function changePassword(deps: AccountDeps, userId: number, current: string, next: string): Promise<{ tokenVersion: number }> {
  const row = await deps.prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
  if (!row || !(await verifyPassword(row.passwordHash, current.slice(0, 1024)))) throw new AccountError('the current password is wrong');
  const problem = passwordProblem(next);
  if (problem) throw new AccountError(problem);
  const updated = await deps.prisma.user.update({ where: { id: userId }, data: { passwordHash: await hashPassword(next), tokenVersion: { increment: 1 } }, select: { tokenVersion: true } });
  deps.events.publish({ type: 'user.changed', userId });
  return updated;
}

export async function resetPasskey(deps: AccountDeps, userId: number): Promise<string> {
  const passkey = newPasskey();
  await deps.prisma.user.update({ where: { id: userId }, data: { passkey }, select: { id: true } });
  deps.events.publish({ type: 'user.changed', userId });
  return passkey;
}

/** Ban, disable or reinstate; leaving ACTIVE also revokes the user's tokens. */
export async function setUserStatus(deps: AccountDeps, userId: number, status: UserStatus): Promise<void> {
  await deps.prisma.user.update({ where: { id: userId }, data: { status, ...(status !== 'ACTIVE' ? { tokenVersion: { increment: 1 } } : {}) }, select: { id: true } });
  deps.events.publish({ type: 'user.changed', userId });
}

/** Grants or takes away leeching (seeding is never blocked); every process's cache follows. */
export async function setUserCanLeech(deps: AccountDeps, userId: number, canLeech: boolean): Promise<void> {
  await deps.prisma.user.update({ where: { id: userId }, data: { canLeech }, select: { id: true } });
  deps.events.publish({ type: 'user.changed', userId });
}

export async function setUserRole(deps: AccountDeps, userId: number, role: Role): Promise<void> {
  await deps.prisma.user.update({ where: { id: userId }, data: { role }, select: { id: true } });
  deps.events.publish({ type: 'user.changed', userId });
}
