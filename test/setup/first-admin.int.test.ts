/**
 * The first admin's setup link (src/setup/first-admin.ts) on PGlite and, in the postgres
 * project, on PostgreSQL with real concurrency: one link per site whichever process asks, kept
 * hashed in the database; spent by exactly one of two concurrent uses; never spent by a bad
 * name or password; refused once an account exists; never in any response. The whole first
 * run as a new user meets it (npm start, Chromium, the CLI) is test/e2e/first-run.test.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupLink, setupLinkFile, type SetupLink } from '../../src/setup/first-admin.ts';
import { CreateFirstAdminDocument, FirstAdminNeededDocument, MeDocument } from '../generated/graphql.ts';
import { codes, gql, startGraphQLApp } from '../graphql/support.ts';
import type { TestApp } from '../support/test-app.ts';

/** Every setup token this suite saw, to prove none ever leaves in a response. */
const tokens = new Set<string>();
function tokenOf(s: SetupLink): string {
  const token = s.kind === 'issued' ? (/#token=(.+)$/.exec(s.link)?.[1] as string) : '';
  tokens.add(token);
  return token;
}

describe('the first admin', () => {
  let t: TestApp;
  let dataDir: string;
  let otherDir: string;
  const where = () => ({ dataDir, publicUrl: t.config.publicUrl });
  /** Every response body of this suite. */
  const bodies: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ot-setup-'));
    otherDir = mkdtempSync(join(tmpdir(), 'ot-setup-other-'));
    t = await startGraphQLApp({ DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  });

  async function create(token: string, username: string, password: string) {
    const r = await gql(t, CreateFirstAdminDocument, { token, username, password });
    bodies.push(JSON.stringify(r));
    return r;
  }

  it('issues one link per site: the process that inserts it shows it and writes it 0600, the others say it exists', async () => {
    // Two processes starting at once on one database, each with its own DATA_DIR.
    const [a, b] = await Promise.all([setupLink(t.db.prisma, where()), setupLink(t.db.prisma, { ...where(), dataDir: otherDir })]);
    const issued = [a, b].filter((s) => s.kind === 'issued');
    expect(issued).toHaveLength(1);
    expect([a, b].filter((s) => s.kind === 'elsewhere')).toHaveLength(1);
    const first = issued[0] as Extract<SetupLink, { kind: 'issued' }>;
    expect(first).toMatchObject({ fresh: true });
    expect(first.link).toMatch(new RegExp(`^${t.config.publicUrl}/setup#token=[A-Za-z0-9_-]{43}$`));
    expect(readFileSync(first.file, 'utf8')).toBe(`${first.link}\n`);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    // Only the hash is stored.
    const [row] = await t.db.query<{ token_hash: string }>('SELECT token_hash FROM setup_tokens');
    expect(row?.token_hash).toBe(createHash('sha256').update(tokenOf(first)).digest('hex'));
    // The issuing process shows the same link again after a restart (from its file).
    const winnerDir = first.file.startsWith(dataDir) ? dataDir : otherDir;
    expect(await setupLink(t.db.prisma, { ...where(), dataDir: winnerDir })).toEqual({ ...first, fresh: false });
    // The CLI's setup-link in the other directory replaces it; the old link stops working.
    const loserDir = winnerDir === dataDir ? otherDir : dataDir;
    const replaced = await setupLink(t.db.prisma, { ...where(), dataDir: loserDir }, { replace: true });
    expect(replaced).toMatchObject({ kind: 'issued', fresh: true });
    expect(tokenOf(replaced)).not.toBe(tokenOf(first));
    expect(await setupLink(t.db.prisma, { ...where(), dataDir: winnerDir })).toMatchObject({ kind: 'elsewhere' });
    expect(codes(await create(tokenOf(first), 'admin', 'a-good-password'))).toEqual(['FORBIDDEN']);
    // From here on the site's link is in dataDir.
    if (loserDir !== dataDir) await setupLink(t.db.prisma, where(), { replace: true });
  });

  it('creates the first admin with the link, refusing bad input without spending it, and exactly one of two concurrent uses', async () => {
    const link = await setupLink(t.db.prisma, where());
    expect(link.kind).toBe('issued');
    const token = tokenOf(link);
    expect((await gql(t, FirstAdminNeededDocument)).data).toEqual({ firstAdminNeeded: true });

    const weak = await create(token, 'admin', 'short');
    expect(codes(weak)).toEqual(['BAD_USER_INPUT']);
    expect(weak.errors?.[0]?.message).toBe('password must be at least 8 characters');
    expect(codes(await create(token, 'a b', 'a-good-password'))).toEqual(['BAD_USER_INPUT']);
    const wrong = await create(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, 'admin', 'a-good-password');
    expect(codes(wrong)).toEqual(['FORBIDDEN']);
    expect(wrong.errors?.[0]?.message).toMatch(/^this setup link is not valid: it was used already, or a newer one replaced it/);
    expect(codes(await create('not-a-token', 'admin', 'a-good-password'))).toEqual(['FORBIDDEN']);
    expect(await t.db.prisma.user.count()).toBe(0);

    const [one, two] = await Promise.all([create(token, 'first', 'first-password'), create(token, 'second', 'second-password')]);
    const won = [one, two].filter((r) => r.data?.createFirstAdmin);
    expect(won).toHaveLength(1);
    expect([one, two].flatMap(codes)).toEqual(['FORBIDDEN']);
    const payload = won[0]?.data?.createFirstAdmin;
    expect(payload?.user.role).toBe('ADMIN');
    expect(['first', 'second']).toContain(payload?.user.username);
    expect(won[0]?.headers.get('set-cookie')).toMatch(new RegExp(`^${t.config.auth.cookieName}=`));
    // Signed in: the returned session works.
    const me = await gql(t, MeDocument, {}, { token: payload?.token as string });
    expect(me.data?.me).toMatchObject({ username: payload?.user.username, role: 'ADMIN' });
    expect(await t.db.prisma.user.count()).toBe(1);
    expect(existsSync(setupLinkFile(dataDir))).toBe(false);
    expect(await t.db.query('SELECT 1 FROM setup_tokens')).toEqual([]);
  });

  it('refuses once the site has an account, and issues no more links', async () => {
    expect((await gql(t, FirstAdminNeededDocument)).data).toEqual({ firstAdminNeeded: false });
    const again = await create('A'.repeat(43), 'another', 'another-password');
    expect(codes(again)).toEqual(['FORBIDDEN']);
    expect(again.errors?.[0]?.message).toBe('this site already has an account: sign in, or ask an admin for an account');
    expect(await setupLink(t.db.prisma, where(), { replace: true })).toEqual({ kind: 'not-needed' });
    expect(await t.db.prisma.user.count()).toBe(1);
  });

  it('never sends a setup token in a response', async () => {
    const [row] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM setup_tokens');
    expect(row?.n).toBe(0);
    expect(bodies.length).toBe(8);
    expect(tokens.size).toBeGreaterThanOrEqual(2);
    for (const body of bodies) for (const token of tokens) expect(body).not.toContain(token);
  });
});
