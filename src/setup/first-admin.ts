/**
 * The first admin of a new site. On a site with no account, the server prints at start a
 * one-time setup link (`{PUBLIC_URL}/setup#token=...`) and writes it to `DATA_DIR/setup-link`
 * (0600): only the operator, who reads the log or the data directory, ever sees the token. The
 * link's page creates the first admin with it.
 *
 * The database keeps one row (setup_tokens, id 1) with the token's SHA-256, so every process
 * of a site on one PostgreSQL database honours the same link and the raw token is never
 * stored. The process that inserts the row is the one that prints the link; another finds the
 * row taken and says where the link is. Creating the admin is one statement that deletes the
 * row (if the token matches and still no user exists) and inserts the admin from what it
 * deleted: of two concurrent uses one wins, and a bad password or name never spends the link.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { hashPassword, passwordProblem } from '../auth/passwords.ts';
import type { EventBus } from '../shared/events.ts';
import { AccountError, newPasskey, normaliseUsername, usernameProblem } from '../users/accounts.ts';

/** 256 random bits, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function setupLinkFile(dataDir: string): string {
  return join(dataDir, 'setup-link');
}

export class SetupRefused extends Error {
  override name = 'SetupRefused';
  constructor(readonly reason: 'BAD_TOKEN' | 'SITE_HAS_ACCOUNT') {
    super(
      reason === 'BAD_TOKEN'
        ? 'this setup link is not valid: it was used already, or a newer one replaced it (the operator can print a new one with `npm run cli -- setup-link`)'
        : 'this site already has an account: sign in, or ask an admin for an account',
    );
  }
}

export type SetupLink =
  /** The site has an account: no link. */
  | { kind: 'not-needed' }
  /** This process knows the link: it made it now (`fresh`), or it is the one in its DATA_DIR. */
  | { kind: 'issued'; link: string; file: string; fresh: boolean }
  /** A link exists that another process made (or whose file is gone). */
  | { kind: 'elsewhere'; since: Date };

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export async function firstAdminNeeded(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.user.findFirst({ select: { id: true } })) === null;
}

/** The token in a setup-link file, or null. */
async function tokenInFile(file: string): Promise<string | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return /#token=([A-Za-z0-9_-]{43})\s*$/.exec(text)?.[1] ?? null;
}

/** Written whole (rename) and readable by the owner only. */
async function writeLinkFile(file: string, link: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${link}\n`, { mode: 0o600 });
  await rename(temp, file);
}

/**
 * The site's setup link as this process can know it. With `replace` (the CLI's
 * `setup-link`), a link this process cannot show is replaced by a new one (the old stops
 * working); without it (the server's start), a link made elsewhere is left alone.
 */
export async function setupLink(prisma: PrismaClient, where: { dataDir: string; publicUrl: string }, options: { replace?: boolean } = {}): Promise<SetupLink> {
  const file = setupLinkFile(where.dataDir);
  const linkOf = (token: string) => `${where.publicUrl}/setup#token=${token}`;
  if (!(await firstAdminNeeded(prisma))) {
    await prisma.setupToken.deleteMany({});
    await rm(file, { force: true });
    return { kind: 'not-needed' };
  }
  const known = await tokenInFile(file);
  let row = await prisma.setupToken.findUnique({ where: { id: 1 } });
  if (row && known && digest(known) === row.tokenHash) return { kind: 'issued', link: linkOf(known), file, fresh: false };
  if (!row || options.replace) {
    const token = randomBytes(32).toString('base64url');
    const tokenHash = digest(token);
    const won = row
      ? (await prisma.setupToken.updateMany({ where: { id: 1 }, data: { tokenHash, createdAt: new Date() } })).count === 1
      : (await prisma.$executeRaw`INSERT INTO setup_tokens (id, token_hash) VALUES (1, ${tokenHash}) ON CONFLICT (id) DO NOTHING`) === 1;
    if (won) {
      await writeLinkFile(file, linkOf(token));
      return { kind: 'issued', link: linkOf(token), file, fresh: true };
    }
    // Another process inserted it first.
    row = await prisma.setupToken.findUnique({ where: { id: 1 } });
  }
  // No row after losing the race: its winner has used it already.
  return row ? { kind: 'elsewhere', since: row.createdAt } : { kind: 'not-needed' };
}

export interface FirstAdminInput {
  token: string;
  username: string;
  password: string;
}

/**
 * Creates the first admin with the setup token, spending it. Refuses a bad name or password
 * (AccountError, the token kept), a token that is not the site's (SetupRefused BAD_TOKEN) and
 * a site that has an account (SITE_HAS_ACCOUNT). Removes the setup-link file of `dataDir`.
 */
export async function createFirstAdmin(deps: { prisma: PrismaClient; events: EventBus }, input: FirstAdminInput, dataDir: string): Promise<{ id: number; username: string; tokenVersion: number }> {
  const problem = usernameProblem(input.username) ?? passwordProblem(input.password);
  if (problem) throw new AccountError(problem);
  const refusal = async (): Promise<SetupRefused> => new SetupRefused((await firstAdminNeeded(deps.prisma)) ? 'BAD_TOKEN' : 'SITE_HAS_ACCOUNT');
  const tokenHash = TOKEN.test(input.token) ? digest(input.token) : null;
  // Checked before the (deliberately slow) password hash, so guesses cost the server nothing.
  if (tokenHash === null || (await deps.prisma.setupToken.count({ where: { id: 1, tokenHash } })) === 0) throw await refusal();
  const passwordHash = await hashPassword(input.password);
  let rows: Array<{ id: number; username: string; token_version: number }>;
  try {
    rows = await deps.prisma.$queryRaw`
      WITH spent AS (
        DELETE FROM setup_tokens WHERE id = 1 AND token_hash = ${tokenHash} AND NOT EXISTS (SELECT 1 FROM users) RETURNING id
      )
      INSERT INTO users (username, username_lower, password_hash, passkey, role)
      SELECT ${input.username}, ${normaliseUsername(input.username)}, ${passwordHash}, ${newPasskey()}, 'ADMIN'::"Role" FROM spent
      RETURNING id, username, token_version`;
  } catch (err) {
    // A user created meanwhile by other means (the CLI) took the name: the site has an account.
    if (!(await firstAdminNeeded(deps.prisma))) throw new SetupRefused('SITE_HAS_ACCOUNT');
    throw err;
  }
  const user = rows[0];
  if (!user) throw await refusal();
  deps.events.publish({ type: 'user.changed', userId: user.id });
  await rm(setupLinkFile(dataDir), { force: true });
  return { id: user.id, username: user.username, tokenVersion: user.token_version };
}
