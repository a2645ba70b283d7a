/**
 * What an imported site's users bring (API.md §9), over real HTTP: their old password hashes
 * sign in through GraphQL, REST and jsonapi and are replaced by ours on that first login; a
 * torrent imported without its .torrent file announces, and its download answers 404.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nexusPasswordHash } from '../../src/auth/passwords.ts';
import { signSession } from '../../src/auth/jwt.ts';
import { createCompatModule } from '../../compat/module.ts';
import { feedsModule } from '../../src/feeds/module.ts';
import { createGraphQLModule } from '../../src/graphql/module.ts';
import { aPeerId, aTorrent, aUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { announce, failureOf } from '../support/tracker-client.ts';
import { GENEROUS_JSONAPI } from '../compat/support.ts';
import { GENEROUS } from '../graphql/support.ts';

let t: TestApp;
const SECRET = Buffer.from('hjklmnopqrstuvwxdefg', 'latin1');
const md5 = (s: Buffer) => createHash('md5').update(s).digest('hex');
/** `$2y$` example of PHP's password_verify manual: the password is "rasmuslerdorf". */
const BCRYPT = '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a';

async function legacyUser(username: string, passwordHash: string) {
  const u = await aUser(t.db, { username });
  await t.db.prisma.user.update({ where: { id: u.id }, data: { passwordHash } });
  return u;
}

const hashOf = async (id: number) => (await t.db.prisma.user.findUniqueOrThrow({ where: { id }, select: { passwordHash: true } })).passwordHash;

function post(path: string, body: Record<string, string>, form = false) {
  return fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });
}

beforeAll(async () => {
  t = await startTestApp({}, { modules: [createCompatModule({ jsonapiLimits: GENEROUS_JSONAPI }), feedsModule, createGraphQLModule({ rateLimits: GENEROUS })], timers: false });
});
afterAll(async () => {
  await t.stop();
});

describe('old passwords', () => {
  it('sign in through jsonapi (NexusPHP md5), and the hash becomes ours', async () => {
    const u = await legacyUser('nexusMd5', nexusPasswordHash(SECRET, md5(Buffer.concat([SECRET, Buffer.from('old pässword'), SECRET]))) as string);
    const wrong = await post('/jsonapi.php', { action: 'auth/login', username: 'nexusmd5', password: 'old password' }, true);
    expect(wrong.status).toBe(401);
    expect(await hashOf(u.id)).toMatch(/^\$nexus-md5\$/);
    const ok = await post('/jsonapi.php', { action: 'auth/login', username: 'nexusmd5', password: 'old pässword' }, true);
    expect(ok.status).toBe(200);
    expect(await hashOf(u.id)).toMatch(/^\$argon2id\$/);
    const again = await post('/api/auth/login', { username: 'NexusMd5', password: 'old pässword' });
    expect(again.status).toBe(200);
  });

  it('sign in through REST (NexusPHP 1.9 sha256) and GraphQL (UNIT3D bcrypt $2y$)', async () => {
    const inner = createHash('sha256').update('six').digest('hex');
    const sha = await legacyUser('nexusSha', nexusPasswordHash(SECRET, createHash('sha256').update(Buffer.concat([SECRET, Buffer.from(inner)])).digest('hex')) as string);
    expect((await post('/api/auth/login', { username: 'nexussha', password: 'six' })).status).toBe(200);
    expect(await hashOf(sha.id)).toMatch(/^\$argon2id\$/);
    const u3d = await legacyUser('unit3dUser', BCRYPT);
    const login = async (password: string) =>
      (await (await post('/graphql', { query: `mutation { login(username: "unit3duser", password: "${password}") { user { id } } }` })).json()) as { data?: { login: { user: { id: string } } } | null; errors?: unknown[] };
    expect((await login('rasmuslerdorF')).errors).toBeDefined();
    expect((await login('rasmuslerdorf')).data?.login.user.id).toBe(String(u3d.id));
    expect(await hashOf(u3d.id)).toMatch(/^\$argon2id\$/);
    expect((await login('rasmuslerdorf')).data?.login.user.id).toBe(String(u3d.id));
  });
});

describe('a torrent imported without its .torrent file', () => {
  it('announces, and its download answers 404 with the reason on /download (session or passkey), REST and GraphQL', async () => {
    const owner = await aUser(t.db);
    const tor = await aTorrent(t.db, owner.id);
    await t.db.prisma.torrent.update({ where: { id: tor.id }, data: { info: null, pieceLength: null } });
    const leecher = await aUser(t.db);
    expect(failureOf(await announce(t.url, { passkey: leecher.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 10, event: 'started' }))).toBeUndefined();

    await t.app.ctx.users.reload(leecher.id);
    const auth = { authorization: `Bearer ${signSession(t.app.ctx.config.auth, leecher.id, 0).token}` };
    const native = await fetch(`${t.url}/download/${tor.id}`, { headers: auth });
    expect(native.status).toBe(404);
    expect(((await native.json()) as { error: { message: string } }).error.message).toMatch(/no \.torrent file here/);
    const byPasskey = await fetch(`${t.url}/download/${tor.id}?passkey=${leecher.passkey}`);
    expect([byPasskey.status, await byPasskey.text()]).toEqual([404, expect.stringMatching(/no \.torrent file here/) as unknown]);
    const rest = await fetch(`${t.url}/api/torrents/${tor.id}/download`, { headers: auth });
    expect(rest.status).toBe(404);
    const gql = (await (await fetch(`${t.url}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ torrent(id: ${tor.id}) { pieceLength torrentFile } }` }) })).json()) as {
      data: { torrent: { pieceLength: number | null; torrentFile: string | null } | null };
      errors: Array<{ message: string; extensions: { code: string } }>;
    };
    expect(gql.errors.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    expect(gql.errors[0]?.message).toMatch(/no \.torrent file here/);
  });
});
