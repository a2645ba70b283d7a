/**
 * Moving a NexusPHP site here, end to end, as an operator does it: `npm run cli -- import
 * nexusphp ...` as a child process, then the real server over HTTP. On PGlite the server is
 * started after the import (one process owns the data directory); on PostgreSQL it is already
 * running with Redis, and picks the import up through the caches.reload event. Then: old
 * passwords over jsonapi, GraphQL and REST; `me` with the old totals; the old site's .torrent
 * announcing with its old passkey through the bittorrent-tracker client and getting the other
 * peer; an authkey URL; jsonapi torrent/{id} and site/fun/view/{id} with the old ids; the
 * re-downloaded .torrent with the same info hash; a second import (before any traffic) that
 * changes nothing.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decode, prescan } from '../../src/torrents/bencode.ts';
import type { ScratchDatabase } from '../support/scratch-database.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { freshPostgres } from '../support/test-app.ts';
import { announceQuery, failureOf, trackerGet } from '../support/tracker-client.ts';
import { authkey, mariadbAvailable } from './fixtures.ts';
import { buildNexusSite, type NexusSite } from './nexusphp-site.ts';

vi.mock('webrtc-polyfill', () => ({ RTCPeerConnection: undefined, RTCSessionDescription: undefined, RTCIceCandidate: undefined }));

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const available = await mariadbAvailable();

interface TrackerClient {
  on(event: string, fn: (arg: never) => void): void;
  start(): void;
  destroy(): void;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

async function stopServer(s: ServerProcess | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  s.child.kill('SIGTERM');
  await s.exited;
}

describe.skipIf(!available)('moving a NexusPHP site here, end to end', () => {
  let site: NexusSite;
  let pg: ScratchDatabase | null;
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let first: { code: number | null; out: string };
  let second: { code: number | null; out: string };
  let url = '';
  const importArgs = (report: string) => ['import', 'nexusphp', '--from', site.url, '--torrents-dir', site.torrentsDir, '--source-tz', '+08:00', '--report', join(dataDir, report)];

  beforeAll(async () => {
    site = await buildNexusSite('1.6');
    pg = await freshPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'ot-import-e2e-'));
    env = pg
      ? { DATA_DIR: dataDir, DATABASE_URL: pg.url, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `ot-import-${randomBytes(4).toString('hex')}` }
      : { DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' };
    // PostgreSQL: the server runs while the site is imported into its database. The second run
    // comes before any traffic (traffic changes snatches, which a re-run would set back).
    if (pg) server = await startServerProcess(env);
    first = await cli(importArgs('first.json'), env);
    second = await cli(importArgs('second.json'), env);
    server ??= await startServerProcess(env);
    url = server.url;
  }, 600_000);
  afterAll(async () => {
    await stopServer(server);
    await pg?.drop();
    await site?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('imports with progress per table and a verification report, on the command line', () => {
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/^ {2}users +8 in source: 8 new, 0 updated, 0 unchanged \(/m);
    expect(first.out).toMatch(/ok +users' uploaded bytes: source 4611686018427401013, imported 4611686018427401013/);
    expect(first.out).toMatch(/Torrent files: 3 kept byte for byte; sha1\(info\) = info hash for 3 of them/);
    expect(first.out).toMatch(/torrent 3: missing: /);
    if (pg) expect(first.out).toMatch(/running servers were told to reload their caches/);
    const report = JSON.parse(readFileSync(join(dataDir, 'first.json'), 'utf8')) as { changes: number; totals: Array<{ equal: boolean }> };
    expect(report.changes).toBeGreaterThan(0);
    expect(report.totals.every((t) => t.equal)).toBe(true);
  });

  it('signs old users in with their old passwords through jsonapi, GraphQL and REST; me shows the old totals', async () => {
    const form = new URLSearchParams({ username: 'alice', password: site.users.alice.password });
    const jsonapi = await fetch(`${url}/jsonapi.php?action=auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    const body = (await jsonapi.json()) as { success: boolean; data: { token: string; uid: number } };
    expect([jsonapi.status, body.success, body.data.uid]).toEqual([200, true, 1]);
    const gql = async (query: string, token?: string) =>
      (await (await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query }) })).json()) as { data?: Record<string, Record<string, unknown>>; errors?: unknown[] };
    const bob = await gql(`mutation { login(username: "bob", password: "${site.users.bob.password}") { token user { id } } }`);
    expect(bob.data?.login?.user).toEqual({ id: '2' });
    const rest = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'erin', password: site.users.erin.password }) });
    expect(rest.status).toBe(200);
    const me = await gql('{ me { id username uploaded downloaded bonus passkey } }', body.data.token);
    expect(me.data?.me).toEqual({ id: '1', username: 'Alice', uploaded: '4611686018427400000', downloaded: '10737418240', bonus: 12345.6, passkey: site.users.alice.passkey });
  });

  it("announces the old site's .torrent with the old passkeys (bittorrent-tracker client): the leecher gets the seeder", async () => {
    const { default: Client } = (await import('bittorrent-tracker/client')) as unknown as { default: new (opts: Record<string, unknown>) => TrackerClient };
    // The file from the old site's folder, as a user's client holds it (download.php set only the announce URL).
    const file = readFileSync(join(site.torrentsDir, '1.torrent'));
    prescan(file);
    const infoHash = createHash('sha1').update(file.subarray(...((decode(file) as { spans: Map<string, [number, number]> }).spans.get('info') as [number, number]))).digest('hex');
    const make = (passkey: string, port: number, left: number) =>
      new Client({ infoHash, peerId: Buffer.from(`-WW0208-${randomBytes(6).toString('hex')}`).toString('hex'), announce: [`${url}/announce.php?passkey=${passkey}`], port, getAnnounceOpts: () => ({ uploaded: 0, downloaded: 0, left }) });
    // Bob's old file carries his passkey as the old site gave it: upper case.
    const seeder = make(site.users.alice.passkey, 6101, 0);
    const leecher = make(site.users.bob.passkey, 6102, 300_000);
    try {
      const warnings: string[] = [];
      for (const c of [seeder, leecher]) c.on('warning', (e: Error) => warnings.push(e.message));
      const seeded = new Promise((resolve) => seeder.on('update', resolve));
      seeder.start();
      await seeded;
      const peers: string[] = [];
      leecher.on('peer', (addr: string) => peers.push(addr));
      leecher.start();
      await vi.waitFor(() => expect(peers).toContain('127.0.0.1:6101'), { timeout: 20_000 });
      expect(warnings).toEqual([]);
    } finally {
      seeder.destroy();
      leecher.destroy();
    }
  });

  it('accepts an authkey URL of the old site, and announces a torrent whose file was lost', async () => {
    const key = authkey(site.torrents.legacy.id, site.users.bob.id, site.secrets.bobLegacy);
    const q = announceQuery({ infoHash: Buffer.from(site.torrents.legacy.infoHash, 'hex'), peerId: Buffer.from('-qB4630-abcdefabcdef'), left: 10, event: 'started' });
    // The secrets reach a running server through the reload event: allow it a moment.
    await vi.waitFor(async () => expect(failureOf(await trackerGet(`${url}/announce.php?authkey=${key}&${q}`))).toBeUndefined(), { timeout: 20_000, interval: 500 });
    const lost = announceQuery({ infoHash: Buffer.from(site.torrents.missing.infoHash, 'hex'), peerId: Buffer.from('-qB4630-abcdefabcdeg'), left: 10, event: 'started' });
    expect(failureOf(await trackerGet(`${url}/announce.php?passkey=${site.users.erin.passkey}&${lost}`))).toBeUndefined();
  });

  it('answers jsonapi torrent/{id} and site/fun/view/{id} with the old ids, and re-downloads the same info hash', async () => {
    const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'Alice', password: site.users.alice.password }) });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    const torrent = (await (await fetch(`${url}/jsonapi.php?action=torrent/1`, { headers: auth })).json()) as { success: boolean; data: { id: number; name: string } };
    expect(torrent).toMatchObject({ success: true, data: { id: 1, name: 'Good.Movie.2010.1080p' } });
    const fun = (await (await fetch(`${url}/jsonapi.php?action=site/fun/view/7`, { headers: auth })).json()) as { success: boolean; data: { id: string; title: string } };
    expect(fun).toMatchObject({ success: true, data: { id: '7', title: 'Old joke' } });
    const download = await fetch(`${url}/download/1`, { headers: auth });
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    const span = (decode(bytes) as { spans: Map<string, [number, number]> }).spans.get('info') as [number, number];
    expect(createHash('sha1').update(bytes.subarray(...span)).digest('hex')).toBe(site.torrents.free.infoHash);
    expect(bytes.toString('latin1')).toContain(`passkey=${site.users.alice.passkey}`);
    expect((await fetch(`${url}/download/3`, { headers: auth })).status).toBe(404);
  });

  it('changes nothing when the import runs again', () => {
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/ -> (PGlite|PostgreSQL) in [\d.]+ s: 0 rows changed/);
    expect(second.out).toMatch(/^ {2}torrents +6 in source: 0 new, 0 updated, 6 unchanged/m);
  });
});
