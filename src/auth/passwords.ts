/**
 * Password hashing with Argon2id (memory-hard) at OWASP's minimum cost. Verification of an
 * unknown user runs against a fixed dummy hash so timing does not reveal which names exist.
 *
 * Imported sites (src/import/) bring their users' hashes, verified here until the user's first
 * successful login replaces them with ours (`needsRehash`, users/sessions.ts):
 * - `$nexus-md5$<secret hex>$<md5 hex>`: NexusPHP 1.5-1.8, md5(secret . password . secret);
 * - `$nexus-sha256$<secret hex>$<sha256 hex>`: NexusPHP 1.9, sha256(secret . sha256hex(password));
 * - `$2y$`/`$2a$`/`$2b$` bcrypt as UNIT3D (Laravel) stores it; bcryptjs reads `$2y$` as it is.
 * The secret is kept in hex since a NexusPHP secret is raw bytes (varbinary). A legacy check
 * also runs the dummy Argon2 verification, so an account's scheme does not show in the timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
let dummy: Promise<string> | null = null;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

async function verifyDummy(password: string): Promise<void> {
  dummy ??= hash('opentracker-dummy-password', OPTIONS);
  await verify(await dummy, password).catch(() => false);
}

const NEXUS = /^\$nexus-(md5|sha256)\$([0-9a-f]*)\$([0-9a-f]+)$/;

/** The stored form of a NexusPHP hash: md5 (32 hex digits, 1.5-1.8) or sha256 (64, 1.9), told apart by length. */
export function nexusPasswordHash(secret: Buffer, passhash: string): string | null {
  const hex = passhash.toLowerCase();
  if (/^[0-9a-f]{32}$/.test(hex)) return `$nexus-md5$${secret.toString('hex')}$${hex}`;
  if (/^[0-9a-f]{64}$/.test(hex)) return `$nexus-sha256$${secret.toString('hex')}$${hex}`;
  return null;
}

/** A bcrypt hash as UNIT3D stores it, or null for anything else. */
export function bcryptPasswordHash(stored: string): string | null {
  return /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(stored) ? stored : null;
}

function verifyNexus(kind: string, secretHex: string, expectedHex: string, password: string): boolean {
  const secret = Buffer.from(secretHex, 'hex');
  const pw = Buffer.from(password, 'utf8');
  const digest =
    kind === 'md5'
      ? createHash('md5').update(Buffer.concat([secret, pw, secret])).digest()
      : createHash('sha256').update(Buffer.concat([secret, Buffer.from(createHash('sha256').update(pw).digest('hex'), 'latin1')])).digest();
  const expected = Buffer.from(expectedHex, 'hex');
  return expected.length === digest.length && timingSafeEqual(expected, digest);
}

/** Verifies against `stored`, or against a dummy hash when the user does not exist. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    await verifyDummy(password);
    return false;
  }
  const nexus = NEXUS.exec(stored);
  if (nexus) {
    await verifyDummy(password);
    return verifyNexus(nexus[1] as string, nexus[2] as string, nexus[3] as string, password);
  }
  if (bcryptPasswordHash(stored)) {
    await verifyDummy(password);
    // bcrypt reads at most 72 bytes, as PHP's password_verify does.
    return bcrypt.compare(password, stored).catch(() => false);
  }
  return verify(stored, password).catch(() => false);
}

/** True for an imported hash that a successful login should replace with ours. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith('$argon2id$');
}

export const PASSWORD_RULES = { min: 8, max: 128 } as const;

/** A problem with a new password, or null when acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_RULES.min) return `password must be at least ${PASSWORD_RULES.min} characters`;
  if (password.length > PASSWORD_RULES.max) return `password must be at most ${PASSWORD_RULES.max} characters`;
  return null;
}
