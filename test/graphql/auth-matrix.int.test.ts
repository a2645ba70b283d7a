/**
 * The authorization matrix: each operation as anonymous, user, uploader, moderator and admin.
 * "ok" means the scope check let the call through (it may still fail later, e.g. NOT_FOUND for
 * the dummy ids used here); otherwise the exact refusal code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.ts';
import { aMember, startGraphQLApp, type Member } from './support.ts';

type Who = 'anonymous' | 'user' | 'uploader' | 'moderator' | 'admin';
type Outcome = 'ok' | 'UNAUTHORIZED' | 'FORBIDDEN';
const WHO: Who[] = ['anonymous', 'user', 'uploader', 'moderator', 'admin'];

const U: Outcome = 'UNAUTHORIZED';
const F: Outcome = 'FORBIDDEN';
const ok: Outcome = 'ok';

/** operation → outcome per WHO order: anonymous, user, uploader, moderator, admin. */
const MATRIX: Array<[string, string, Outcome[]]> = [
  ['me', '{ me { id } }', [U, ok, ok, ok, ok]],
  ['user', '{ user(id: "999999") { id } }', [ok, ok, ok, ok, ok]],
  ['torrent', '{ torrent(id: "999999") { id } }', [U, ok, ok, ok, ok]],
  ['torrentByInfoHash', '{ torrentByInfoHash(infoHash: "0000000000000000000000000000000000000000") { id } }', [U, ok, ok, ok, ok]],
  ['torrents', '{ torrents { totalCount } }', [U, ok, ok, ok, ok]],
  ['categories', '{ categories { id } }', [ok, ok, ok, ok, ok]],
  ['news', '{ news { id } }', [ok, ok, ok, ok, ok]],
  ['siteStats', '{ siteStats { users } }', [ok, ok, ok, ok, ok]],
  ['firstAdminNeeded', '{ firstAdminNeeded }', [ok, ok, ok, ok, ok]],
  ['funEntry', '{ funEntry { id } }', [U, ok, ok, ok, ok]],
  ['funEntries', '{ funEntries { id } }', [U, ok, ok, ok, ok]],
  ['bonusTransactions', '{ bonusTransactions { id } }', [U, ok, ok, ok, ok]],
  ['myInvites', '{ myInvites { code } }', [U, ok, ok, ok, ok]],
  ['resetPasskey', 'mutation { resetPasskey { id } }', [U, ok, ok, ok, ok]],
  ['changePassword', 'mutation { changePassword(input: { currentPassword: "x", newPassword: "y" }) { token } }', [U, ok, ok, ok, ok]],
  ['updateTorrent', 'mutation { updateTorrent(id: "999999", input: { name: "x" }) { id } }', [U, ok, ok, ok, ok]],
  ['deleteTorrent', 'mutation { deleteTorrent(id: "999999") }', [U, ok, ok, ok, ok]],
  ['setTorrentPromotion', 'mutation { setTorrentPromotion(id: "999999", promotion: FREE) { id } }', [U, F, F, ok, ok]],
  ['setTorrentTransferFactors', 'mutation { setTorrentTransferFactors(id: "999999", downloadPercent: 30, uploadPercent: 100) { id } }', [U, F, F, ok, ok]],
  ['setTorrentStatus', 'mutation { setTorrentStatus(id: "999999", status: ACTIVE) { id } }', [U, F, F, ok, ok]],
  ['setUserStatus', 'mutation { setUserStatus(userId: "999999", status: BANNED) { id } }', [U, F, F, ok, ok]],
  ['setUserCanLeech', 'mutation { setUserCanLeech(userId: "999999", canLeech: true) { id } }', [U, F, F, ok, ok]],
  ['suspiciousAnnounces', '{ suspiciousAnnounces { id } }', [U, F, F, ok, ok]],
  ['setUserRole', 'mutation { setUserRole(userId: "999999", role: ADMIN) { id } }', [U, F, F, F, ok]],
  ['thankTorrent', 'mutation { thankTorrent(torrentId: "999999") }', [U, ok, ok, ok, ok]],
  ['giftBonus', 'mutation { giftBonus(torrentId: "999999", amount: 50) { balance } }', [U, ok, ok, ok, ok]],
  ['postFun', 'mutation { postFun(input: { title: "", body: "" }) { id } }', [U, ok, ok, ok, ok]],
  ['voteFun', 'mutation { voteFun(id: "999999", funny: true) }', [U, ok, ok, ok, ok]],
  ['setFunStatus', 'mutation { setFunStatus(id: "999999", status: DULL) { id } }', [U, F, F, ok, ok]],
  ['postNews', 'mutation { postNews(input: { title: "", body: "" }) { id } }', [U, F, F, F, ok]],
  ['createInvite', 'mutation { createInvite { code } }', [U, ok, ok, ok, ok]],
  ['hitAndRuns', '{ hitAndRuns { id } }', [U, F, F, ok, ok]],
  ['bonusShop', '{ bonusShop { id } }', [U, ok, ok, ok, ok]],
  ['payHitAndRun', 'mutation { payHitAndRun(id: "999999") { id } }', [U, ok, ok, ok, ok]],
  ['pardonHitAndRun', 'mutation { pardonHitAndRun(id: "999999") { id } }', [U, F, F, ok, ok]],
  ['buyShopItem', 'mutation { buyShopItem(id: "nothing") { balance } }', [U, ok, ok, ok, ok]],
  ['grantBonus', 'mutation { grantBonus(userId: "999999", amount: 1, reason: "x") { balance } }', [U, F, F, ok, ok]],
  ['createCategory', 'mutation { createCategory(input: { slug: "BAD SLUG", name: "" }) { id } }', [U, F, F, F, ok]],
  ['setCategoryNewznab', 'mutation { setCategoryNewznab(id: "999999", newznabId: 5040) { id } }', [U, F, F, ok, ok]],
  ['newznabCategories', '{ newznabCategories { id } }', [ok, ok, ok, ok, ok]],
  ['feed URLs', '{ me { rssUrl torznabUrl } }', [U, ok, ok, ok, ok]],
  // Last: it revokes every member's token.
  ['logout', 'mutation { logout }', [U, ok, ok, ok, ok]],
];

let t: TestApp;
const members = {} as Record<Who, Member | null>;

beforeAll(async () => {
  t = await startGraphQLApp();
  members.anonymous = null;
  members.user = await aMember(t);
  members.uploader = await aMember(t, { role: 'UPLOADER' });
  members.moderator = await aMember(t, { role: 'MODERATOR' });
  members.admin = await aMember(t, { role: 'ADMIN' });
});
afterAll(async () => {
  await t.stop();
});

async function outcome(query: string, who: Who): Promise<string> {
  const m = members[who];
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(m ? { authorization: `Bearer ${m.token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
  const code = body.errors?.[0]?.extensions?.code;
  if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') return code;
  if (code === 'INTERNAL_ERROR') return code;
  return 'ok';
}

describe('authorization matrix', () => {
  it.each(MATRIX)('%s', async (_name, query, expected) => {
    const got: string[] = [];
    for (const who of WHO) got.push(await outcome(query, who));
    expect(got).toEqual(expected);
  });
});
