/**
 * `npm run cli` while the embedded server holds the data directory: every command runs on the
 * server's database through DATA_DIR/run/cli.sock (src/cli/database.ts), and the server sees
 * what it wrote at once. Then the ways that socket can be wrong: stale (the server was killed),
 * stale while another process holds the directory, open to other users, and a server older
 * than the CLI. Embedded only (the socket is PGlite's; PostgreSQL needs none): hence not an
 * .int test. test/cli/cli.int.test.ts runs the same commands with no server.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPgliteSocket } from '../../src/db/open-database.ts';
import { parseTorrentUpload } from '../../src/torrents/metainfo.ts';
import { runCli } from '../support/cli-process.ts';
import { aPeerId } from '../support/factories.ts';
import { announce, failureOf } from '../support/tracker-client.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/torrents/', import.meta.url));

describe('the CLI while the embedded server runs', { timeout: 180_000 }, () => {
  let dataDir: string;
  let server: ServerProcess;
  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' });
  const cli = (...args: string[]) => runCli(args, env());
  const socket = () => join(dataDir, 'run', 'cli.sock');

  async function graphql(query: string, variables: Record<string, unknown> = {}, token?: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string }> };
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ot-cli-srv-'));
    server = await startServerProcess(env());
  });
  afterAll(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs every command on the running server\'s database, with its output, errors and exit codes', async () => {
    const user = await cli('user', 'add', 'carol', '--password', 'carol-password-1', '--role', 'admin');
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout).toMatch(/created user carol \(id \d+, role admin\), passkey [0-9a-f]{32}/);
    // The server's own API sees the new account at once.
    const login = await graphql('mutation { login(username: "carol", password: "carol-password-1") { token user { username role } } }');
    expect(login.data?.login).toMatchObject({ user: { username: 'carol', role: 'ADMIN' } });
    const token = (login.data?.login as { token: string }).token;

    const invite = await cli('invite', 'create', '--days', '3');
    expect(invite.code, invite.stderr).toBe(0);
    expect(invite.stdout).toMatch(/[0-9a-f]{32}/);

    expect((await cli('migrate')).stdout).toMatch(/database pglite: (\d+) of \1 migrations applied, schema up to date/);

    // A client announcing the torrent before it is added: the server remembers it as unknown.
    const passkey = /passkey ([0-9a-f]{32})/.exec(user.stdout)?.[1] as string;
    const announced = () => announce(server.url, { passkey, infoHash: Buffer.from(infoHash, 'hex'), peerId, left: 0 }).then(failureOf);
    const infoHash = parseTorrentUpload(readFileSync(join(FIXTURES, 'v1-single.torrent')), { source: 'localhost' }).infoHash;
    const peerId = aPeerId();
    expect(await announced()).toMatch(/not registered/);
    const added = await cli('torrent', 'add', join(FIXTURES, 'v1-single.torrent'), '--owner', 'carol', '--name', 'Through the socket');
    expect(added.code, added.stderr).toBe(0);
    // The command changed rows: the server reloaded its caches, so the torrent is known at once.
    await expect.poll(announced, { timeout: 10_000 }).toBeUndefined();
    const id = /registered torrent (\d+)/.exec(added.stdout)?.[1];
    expect((await graphql('query ($id: ID!) { torrent(id: $id) { name } }', { id }, token)).data).toEqual({ torrent: { name: 'Through the socket' } });

    // Progress lines stream from the CLI's own process, as without a server.
    const seeded = await cli('seed-demo', '--torrents', '10');
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stdout).toMatch(/torrents: 10\/10/);
    expect(seeded.stdout).toMatch(/torrents: 10 added, 0 already present/);

    const pools = join(dataDir, 'pools');
    const hex = (n: number, c: string) => Array.from({ length: n }, (_, i) => `${String(i).padStart(8, '0')}${c.repeat(32)}`).join('\n');
    mkdirSync(pools);
    writeFileSync(join(pools, 'peers.hex'), `${hex(20, 'a')}\n`);
    writeFileSync(join(pools, 'torrents.hex'), `${hex(5, 'b')}\n`);
    expect((await cli('bench-fixture', '--pools', pools)).stdout).toMatch(/20 users and 5 torrents added/);

    // Errors and exit codes come back as without a server.
    const dup = await cli('torrent', 'add', join(FIXTURES, 'v1-single.torrent'), '--owner', 'carol');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(new RegExp(`already registered as torrent ${id}`));
    const taken = await cli('user', 'add', 'carol', '--password', 'another-password');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/username carol is taken/);
    const usage = await cli('user', 'add', 'dave');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--password is required/);
    // The server kept serving throughout.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses to run on a server that has not applied a migration this CLI has', async () => {
    const db = await connectPgliteSocket(socket());
    try {
      const [last] = await db.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1');
      const name = last?.migration_name as string;
      await db.query('UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1', [name]);
      const r = await cli('migrate');
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`the running server \\(pid \\d+\\) has not applied migration ${name}: restart it`));
      await db.query('UPDATE "_prisma_migrations" SET rolled_back_at = NULL WHERE migration_name = $1', [name]);
    } finally {
      await db.close();
    }
  });

  it('opens the database itself past a stale socket (server killed), and explains one while another process holds the directory', async () => {
    server.child.kill('SIGKILL');
    await server.exited;
    expect(existsSync(socket())).toBe(true);
    const after = await cli('user', 'add', 'dave', '--password', 'dave-password-1');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/created user dave/);

    // A live process (this test runner) holds the directory; its socket does not answer.
    const lock = join(dataDir, 'pglite', 'opentracker.lock');
    writeFileSync(lock, `${process.pid}\n`);
    try {
      const held = await cli('user', 'add', 'erin', '--password', 'erin-password-1');
      expect(held.code).toBe(3);
      expect(held.stderr).toMatch(new RegExp(`in use by process ${process.pid}, but its socket .*cli\\.sock is stale \\(nothing listens on it\\)`));
      rmSync(socket());
      expect((await cli('migrate')).stderr).toMatch(/it does not share its database on .*cli\.sock/);
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it('refuses a socket directory other users can enter', async () => {
    const restarted = await startServerProcess(env());
    try {
      expect(readFileSync(join(dataDir, 'pglite', 'opentracker.lock'), 'utf8').trim()).toBe(String(restarted.child.pid));
      chmodSync(join(dataDir, 'run'), 0o755);
      const r = await cli('migrate');
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/refusing the server socket: .*run is open to other users \(mode 755; it must be 700\)/);
    } finally {
      restarted.child.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
    }
  });
});
