/**
 * Who a legacy request is, for rate-limit keys only (authentication and authorization happen in
 * GraphQL): the user id of a presented session token whose signature verifies, else null.
 */
import type { IncomingMessage } from 'node:http';
import { verifySession, type JwtConfig } from '../src/auth/jwt.ts';
import { presentedToken } from '../src/auth/viewer.ts';

export function tokenUserId(req: IncomingMessage, config: JwtConfig & { cookieName: string }): number | null {
  const presented = presentedToken({ authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null }, config.cookieName);
  if (!presented?.token) return null;
  return verifySession(config, presented.token)?.userId ?? null;
}
