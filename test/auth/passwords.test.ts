/**
 * Imported password hashes (auth/passwords.ts), against vectors computed elsewhere: the NexusPHP
 * ones with Python's hashlib, the bcrypt one is the `$2y$` example of PHP's password_verify manual.
 */
import { describe, expect, it } from 'vitest';
import { bcryptPasswordHash, hashPassword, needsRehash, nexusPasswordHash, verifyPassword } from '../../src/auth/passwords.ts';

const SECRET = Buffer.from('ddxkqwefgtvhmnopqrsu', 'latin1');
const PASSWORD = 'pässwörd-1';
const MD5 = '59fc5edd8b211ce3853c6b4c3f18fbed';
const SHA256 = '1a2146ccd7e2133adde98f29a3485eadab7aa132b2adf27dc302ac9688dc10c4';
const PHP_MANUAL = '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a';

describe('imported password hashes', () => {
  it('verifies NexusPHP md5(secret . password . secret), the password as UTF-8', async () => {
    const stored = nexusPasswordHash(SECRET, MD5.toUpperCase());
    expect(stored).toBe(`$nexus-md5$${SECRET.toString('hex')}$${MD5}`);
    expect(await verifyPassword(stored, PASSWORD)).toBe(true);
    expect(await verifyPassword(stored, 'passwörd-1')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it('verifies NexusPHP 1.9 sha256(secret . sha256hex(password)), told apart by length', async () => {
    const stored = nexusPasswordHash(SECRET, SHA256);
    expect(stored?.startsWith('$nexus-sha256$')).toBe(true);
    expect(await verifyPassword(stored, PASSWORD)).toBe(true);
    expect(await verifyPassword(stored, PASSWORD.toUpperCase())).toBe(false);
  });

  it('keeps a secret with any bytes (hex), and refuses hashes of another shape', async () => {
    const odd = Buffer.from([0x24, 0x00, 0xff, 0x7c]);
    const md5 = (await import('node:crypto')).createHash('md5').update(Buffer.concat([odd, Buffer.from('x'), odd])).digest('hex');
    expect(await verifyPassword(nexusPasswordHash(odd, md5), 'x')).toBe(true);
    expect(nexusPasswordHash(SECRET, 'abc')).toBeNull();
    expect(nexusPasswordHash(SECRET, 'z'.repeat(32))).toBeNull();
    expect(bcryptPasswordHash('$2y$10$short')).toBeNull();
  });

  it("verifies UNIT3D's bcrypt $2y$ as stored (PHP manual vector)", async () => {
    expect(bcryptPasswordHash(PHP_MANUAL)).toBe(PHP_MANUAL);
    expect(await verifyPassword(PHP_MANUAL, 'rasmuslerdorf')).toBe(true);
    expect(await verifyPassword(PHP_MANUAL, 'rasmuslerdorF')).toBe(false);
  });

  it('asks for a rehash of every imported scheme and not of ours', async () => {
    expect(needsRehash(PHP_MANUAL)).toBe(true);
    expect(needsRehash(nexusPasswordHash(SECRET, MD5) as string)).toBe(true);
    expect(needsRehash(await hashPassword('correct horse'))).toBe(false);
  });
});
