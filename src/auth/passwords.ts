/**
 * Password hashing with Argon2id (memory-hard) at OWASP's minimum cost. Verification of an
 * unknown user runs against a fixed dummy hash so timing does not reveal which names exist.
 */
import { hash, verify } from '@node-rs/argon2';

const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
let dummy: Promise<string> | null = null;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** Verifies against `stored`, or against a dummy hash when the user does not exist. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    dummy ??= hash('opentracker-dummy-password', OPTIONS);
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}

export const PASSWORD_RULES = { min: 8, max: 128 } as const;

/** A problem with a new password, or null when acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_RULES.min) return `password must be at least ${PASSWORD_RULES.min} characters`;
  if (password.length > PASSWORD_RULES.max) return `password must be at most ${PASSWORD_RULES.max} characters`;
  return null;
}
