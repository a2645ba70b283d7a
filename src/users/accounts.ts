/**
 * Creating accounts and invites: the one place that knows how a username is normalised and
 * how passkeys and invite codes are made (128 random bits, hex).
 */
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { hashPassword, passwordProblem } from '../auth/passwords.ts';

export class AccountError extends Error {
  override name = 'AccountError';
}

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

export function usernameProblem(username: string): string | null {
  return USERNAME.test(username) ? null : 'username must be 3-32 characters: letters, digits, _ . -';
}

export function newPasskey(): string {
  return randomBytes(16).toString('hex');
}

export function newInviteCode(): string {
  return randomBytes(16).toString('hex');
}

export interface NewUser {
  username: string;
  password: string;
  role?: Role;
  email?: string | null;
  invitedById?: number | null;
  /** Only for fixtures (bench, tests): a known passkey instead of a random one. */
  passkey?: string;
}

export async function createUser(prisma: PrismaClient, input: NewUser): Promise<{ id: number; username: string; passkey: string; role: Role }> {
  const problem = usernameProblem(input.username) ?? passwordProblem(input.password);
  if (problem) throw new AccountError(problem);
  const usernameLower = normaliseUsername(input.username);
  const taken = await prisma.user.findUnique({ where: { usernameLower }, select: { id: true } });
  if (taken) throw new AccountError(`username ${input.username} is taken`);
  const passwordHash = await hashPassword(input.password);
  return prisma.user.create({
    data: {
      username: input.username,
      usernameLower,
      email: input.email ?? null,
      passwordHash,
      passkey: input.passkey ?? newPasskey(),
      role: input.role ?? 'USER',
      invitedById: input.invitedById ?? null,
    },
    select: { id: true, username: true, passkey: true, role: true },
  });
}

export async function createInvite(prisma: PrismaClient, inviterId: number | null, days = 7): Promise<{ code: string; expiresAt: Date }> {
  const code = newInviteCode();
  const expiresAt = new Date(Date.now() + days * 86_400_000);
  await prisma.invite.create({ data: { code, inviterId, expiresAt } });
  return { code, expiresAt };
}
