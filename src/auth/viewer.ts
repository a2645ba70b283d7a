/**
 * Request credentials → the Viewer (the signed-in user) for GraphQL and the routes beside it.
 * A JWT is accepted as `Authorization: Bearer <jwt>` or as the session cookie; when both are
 * present the Bearer wins, and a Bearer that fails does not fall back to the cookie. The user
 * comes from the in-memory UserDirectory (no query on a warm cache); a token whose version is
 * older than the user's tokenVersion is revoked, and a banned or disabled account is refused.
 * Tokens in the URL are never read (URLs are logged).
 */
import { parse as parseCookie } from 'cookie';
import type { UserDirectory } from '../cache/user-directory.ts';
import type { Role, UserStatus } from '../generated/prisma/enums.ts';
import { verifySession, type JwtConfig } from './jwt.ts';

export interface Viewer {
  id: number;
  username: string;
  role: Role;
  status: UserStatus;
}

/** Why credentials that were presented did not give a viewer. */
export type AuthProblem = 'INVALID_TOKEN' | 'REVOKED_TOKEN' | 'ACCOUNT_INACTIVE';

export interface Authentication {
  viewer: Viewer | null;
  /** Null when no credentials were presented or they were good. */
  problem: AuthProblem | null;
  /** Where the accepted (or refused) token came from. */
  source: 'bearer' | 'cookie' | null;
}

export interface CredentialHeaders {
  authorization?: string | null | undefined;
  cookie?: string | null | undefined;
}

export const ANONYMOUS: Authentication = { viewer: null, problem: null, source: null };

/** The token presented by the request, Bearer first. */
export function presentedToken(headers: CredentialHeaders, cookieName: string): { token: string; source: 'bearer' | 'cookie' } | null {
  const auth = headers.authorization?.trim();
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    // A malformed Authorization header still counts as presented: it must not fall back.
    return { token: m?.[1] ?? '', source: 'bearer' };
  }
  if (headers.cookie) {
    try {
      const value = parseCookie(headers.cookie)[cookieName];
      if (value) return { token: value, source: 'cookie' };
    } catch {
      return null;
    }
  }
  return null;
}

export async function authenticate(headers: CredentialHeaders, config: JwtConfig & { cookieName: string }, users: UserDirectory): Promise<Authentication> {
  const presented = presentedToken(headers, config.cookieName);
  if (!presented) return ANONYMOUS;
  const claims = presented.token ? verifySession(config, presented.token) : null;
  if (!claims) return { viewer: null, problem: 'INVALID_TOKEN', source: presented.source };
  const user = users.byId(claims.userId) ?? (await users.byIdOrLoad(claims.userId));
  if (!user) return { viewer: null, problem: 'INVALID_TOKEN', source: presented.source };
  if (user.status !== 'ACTIVE') return { viewer: null, problem: 'ACCOUNT_INACTIVE', source: presented.source };
  if (user.tokenVersion !== claims.version) return { viewer: null, problem: 'REVOKED_TOKEN', source: presented.source };
  return { viewer: { id: user.id, username: user.username, role: user.role, status: user.status }, problem: null, source: presented.source };
}

const RANK: Record<Role, number> = { USER: 0, UPLOADER: 1, MODERATOR: 2, ADMIN: 3 };

/** True when `role` is `least` or above (USER < UPLOADER < MODERATOR < ADMIN). */
export function hasRole(role: Role, least: Role): boolean {
  return RANK[role] >= RANK[least];
}
