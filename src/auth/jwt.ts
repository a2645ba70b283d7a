/**
 * Session tokens: JWT HS256 signed with config.auth.jwtSecret. Verification pins the
 * algorithm, demands `exp`, and carries the user's token version (`ver`) so that logout,
 * password changes and bans revoke every token issued before (see auth/viewer.ts).
 * Never decode a token without verifying it.
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const JWT_ISSUER = 'opentracker';
export const JWT_AUDIENCE = 'opentracker-api';

export interface SessionClaims {
  /** User id. */
  userId: number;
  /** The user's tokenVersion when the token was issued. */
  version: number;
  /** Unix seconds. */
  expiresAt: number;
}

export interface JwtConfig {
  jwtSecret: string;
  jwtTtlSeconds: number;
}

export function signSession(config: JwtConfig, userId: number, version: number): { token: string; expiresAt: number } {
  if (Buffer.byteLength(config.jwtSecret) < 32) throw new Error('JWT secret must be at least 32 bytes');
  const token = jwt.sign({ ver: version }, config.jwtSecret, {
    algorithm: 'HS256',
    subject: String(userId),
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    expiresIn: config.jwtTtlSeconds,
    jwtid: randomBytes(9).toString('base64url'),
  });
  return { token, expiresAt: Math.floor(Date.now() / 1000) + config.jwtTtlSeconds };
}

/** The claims of a valid token, or null for anything else (bad signature, alg, expiry, shape). */
export function verifySession(config: JwtConfig, token: string): SessionClaims | null {
  if (token.length > 4096) return null;
  let payload: unknown;
  try {
    payload = jwt.verify(token, config.jwtSecret, {
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      clockTolerance: 5,
    });
  } catch {
    return null;
  }
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  // jsonwebtoken accepts a token without `exp`: refuse it here.
  if (typeof p.exp !== 'number' || typeof p.sub !== 'string' || typeof p.ver !== 'number') return null;
  if (!/^[1-9][0-9]{0,9}$/.test(p.sub)) return null;
  const userId = Number(p.sub);
  if (!Number.isSafeInteger(userId) || !Number.isInteger(p.ver)) return null;
  return { userId, version: p.ver, expiresAt: p.exp };
}
