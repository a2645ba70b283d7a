/**
 * A new user's first run, as the README tells it: `npm start` with nothing configured, in a
 * working directory of its own (so `./data` is new), on the default port 8080 and every other
 * default; then, as that user would:
 * - the dashboard says how to create the first admin (never the token); the printed one-time
 *   link, followed in headless Chromium, refuses a wrong link and a weak password, creates the
 *   admin and signs them in; the admin signs in again elsewhere; the link is spent;
 * - `npm run cli -- user add` and `torrent add` work while the server runs, and the new user
 *   signs in;
 * - announces over 127.0.0.1 and [::1] are both answered (dual stack by default), each
 *   family's peer handed out in its own list (`peers`, `peers6`);
 * - after the server is killed (stale socket and lock), `npm start` comes back, without a link.
 *
 * The working directory looks like a clone (symlinks to this one's files), so `npm start` and
 * `npm run cli` run exactly as typed. Port 8080 is the default's: the test stops with a clear
 * message when something else holds it. Not an .e2e test: it is about the embedded defaults,
 * so it runs once (the postgres project would run it again, at the same time, on the same port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envSchema } from '../../src/config.ts';
import { aPeerId } from '../support/factories.ts';
import { announce, compactPeers, failureOf } from '../support/tracker-client.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const PORT = 8080;
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (CI must run the first-run test)`);
if (!available) process.stderr.write(`first-run test skipped: ${CHROMIUM} not found (apt-get install -y chromium)\n`);

/** This environment minus everything the project reads (a new user has set nothing). */
function newUserEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false' };
  for (const key of Object.keys(envSchema.shape)) delete env[key];
  for (const key of Object.keys(env)) if (/^(TRACKER|ACCOUNTING|BONUS|JWT|AUTH|METRICS|PGLITE)_/.test(key)) delete env[key];
  return env;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '::', ipv6Only: false }, () => probe.close(() => resolve(true)));
  });
}

interface Npm {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `npm <args>` in `cwd`, in its own process group (npm, sh, tsx and node are ended together). */
function npm(args: string[], cwd: string): Npm {
  const child = spawn('npm', args, { cwd, env: newUserEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // 'close': npm has exited and so has every process that shared its output (the server).
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function npmRun(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const run = npm(args, cwd);
  const code = await run.exited;
  return { code, output: run.output() };
}

async function waitFor(what: RegExp, proc: Npm, timeoutMs = 120_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = what.exec(proc.output());
    if (m) return m;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`npm exited (${proc.child.exitCode}) before ${what}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stop(proc: Npm, signal: NodeJS.Signals): Promise<number | null> {
  if (proc.child.exitCode === null && proc.child.signalCode === null && proc.child.pid) process.kill(-proc.child.pid, signal);
  return proc.exited;
}

async function graphql(base: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1', ...headers }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return { text, body: JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
}

const V4 = `http://127.0.0.1:${PORT}`;
const V6 = `http://[::1]:${PORT}`;

describe.skipIf(!available)("a new user's first run: npm start, the setup link, the CLI while serving, dual stack", { timeout: 300_000 }, () => {
  let home: string;
  let server: Npm;
  let browser: Browser;
  let link: string;
  let token: string;
  let adminJwt: string;
  let bobPasskey: string;
  let infoHash: string;
  /** Every response body the server sent the test's own requests, for the token check. */
  const bodies: string[] = [];

  beforeAll(async () => {
    if (!(await portFree(PORT))) {
      throw new Error(`port ${PORT} is in use: this test starts the server exactly as \`npm start\` does, on its default port; stop whatever listens there (ss -ltnp 'sport = :${PORT}') and run it again`);
    }
    home = mkdtempSync(join(tmpdir(), 'ot-first-run-'));
    for (const entry of readdirSync(ROOT)) if (entry !== 'data' && !entry.startsWith('.')) symlinkSync(join(ROOT, entry), join(home, entry));
    server = npm(['start'], home);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (server) await stop(server, 'SIGTERM');
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('starts on both families and prints a one-time setup link, kept only where the operator can read it', async () => {
    await waitFor(/OpenTracker listening on port 8080 \(IPv4 and IPv6\)/, server);
    expect(server.output()).toMatch(/"address":"\[::\]:8080"/);
    [, link] = (await waitFor(/Create the first admin at (http:\/\/localhost:8080\/setup#token=[A-Za-z0-9_-]{43}) \(the link works once; it is also in (\S+)\)/, server)) as unknown as [string, string];
    token = link.slice(link.indexOf('#token=') + 7);
    const file = join(home, 'data', 'setup-link');
    expect(readFileSync(file, 'utf8')).toBe(`${link}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'data', 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'data', 'run', 'cli.sock')).mode & 0o777).toBe(0o600);
  });

  it('the dashboard says where the setup link is, never what it is', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('response', (r) => void r.text().then((t) => bodies.push(t), () => undefined));
    await page.goto(`http://localhost:${PORT}/dashboard`);
    const note = page.locator('#first-run');
    await note.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await note.textContent()).toMatch(/no account yet.*one-time link.*server's log.*setup-link.*DATA_DIR.*npm run cli -- setup-link/s);
    expect(await page.content()).not.toContain(token);
    await context.close();
  });

  it('follows the link in Chromium: a wrong link and a weak password are refused, then the admin is created and signed in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('response', (r) => void r.text().then((t) => bodies.push(t), () => undefined));

    const wrong = `${link.slice(0, -4)}${link.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    await page.goto(wrong);
    await page.locator('#setup').waitFor({ state: 'visible', timeout: 15_000 });
    await page.fill('#username', 'admin');
    await page.fill('#password', 'operator-password-1');
    await page.fill('#confirm', 'operator-password-1');
    await page.click('#create');
    await expect.poll(() => page.locator('#setup-error').textContent(), { timeout: 15_000 }).toMatch(/this setup link is not valid/);

    await page.goto(link);
    await page.reload(); // a fragment-only navigation does not reload the page
    await page.locator('#setup').waitFor({ state: 'visible', timeout: 15_000 });
    await page.fill('#username', 'admin');
    await page.fill('#password', 'short');
    await page.fill('#confirm', 'short');
    await page.click('#create');
    await expect.poll(() => page.locator('#setup-error').textContent(), { timeout: 15_000 }).toBe('password must be at least 8 characters');
    await page.fill('#password', 'operator-password-1');
    await page.fill('#confirm', 'operator-password-2');
    await page.click('#create');
    await expect.poll(() => page.locator('#setup-error').textContent()).toBe('the two passwords differ');

    await page.fill('#confirm', 'operator-password-1');
    await page.click('#create');
    await page.locator('#done').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#done-name').textContent()).toBe('admin');
    expect(page.url()).toBe(`http://localhost:${PORT}/setup`);
    expect(existsSync(join(home, 'data', 'setup-link'))).toBe(false);

    // Signed in: the dashboard opens live with the cookie the mutation set.
    await page.click('#done a');
    await page.locator('#state.live').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#users').textContent(), { timeout: 15_000 }).toBe('1');
    expect(problems).toEqual([]);
    adminJwt = (await context.cookies()).find((c) => c.name === 'ourbits_jwt')?.value as string;
    expect(adminJwt).toBeDefined();
    await context.close();
  });

  it('signs the admin in on a fresh browser, where the dashboard no longer talks of a setup link, and the link is spent', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('response', (r) => void r.text().then((t) => bodies.push(t), () => undefined));
    await page.goto(`http://localhost:${PORT}/dashboard`);
    await page.locator('#login').waitFor({ state: 'visible', timeout: 15_000 });
    await page.fill('#username', 'admin');
    await page.fill('#password', 'operator-password-1');
    await page.click('#login button');
    await page.locator('#state.live').waitFor({ timeout: 15_000 });
    expect(await page.locator('#first-run').isHidden()).toBe(true);

    await page.goto(link);
    await page.reload();
    await page.locator('#has-account').waitFor({ state: 'visible', timeout: 15_000 });
    await context.close();

    // A second admin through the API, with the spent token: refused.
    const again = await graphql(V6, 'mutation ($t: String!) { createFirstAdmin(token: $t, username: "second", password: "second-password") { token } }', { t: token });
    bodies.push(again.text);
    expect(again.body.errors?.[0]).toMatchObject({ message: 'this site already has an account: sign in, or ask an admin for an account', extensions: { code: 'FORBIDDEN' } });
  });

  it('runs npm run cli -- user add and torrent add against the running server; the new user signs in', async () => {
    const added = await npmRun(['run', 'cli', '--', 'user', 'add', 'bob', '--password', 'bob-password-1'], home);
    expect(added.code, added.output).toBe(0);
    bobPasskey = /created user bob \(id 2, role user\), passkey ([0-9a-f]{32})/.exec(added.output)?.[1] as string;
    expect(bobPasskey, added.output).toBeDefined();
    const login = await graphql(V4, 'mutation { login(username: "bob", password: "bob-password-1") { token user { username } } }');
    expect(login.body.data?.login).toMatchObject({ user: { username: 'bob' } });

    const fixture = join(ROOT, 'test/fixtures/torrents/v1-single.torrent');
    const torrent = await npmRun(['run', 'cli', '--', 'torrent', 'add', fixture, '--owner', 'admin'], home);
    expect(torrent.code, torrent.output).toBe(0);
    infoHash = /infohash ([0-9a-f]{40})/.exec(torrent.output)?.[1] as string;
    expect(infoHash, torrent.output).toBeDefined();
  });

  it('answers announces over 127.0.0.1 and [::1], each peer in its own family\'s list', async () => {
    const me = await graphql(V6, '{ me { passkey } }', {}, { authorization: `Bearer ${adminJwt}` });
    const adminPasskey = (me.body.data?.me as { passkey: string }).passkey;
    const hash = Buffer.from(infoHash, 'hex');
    // qBittorrent leeching over IPv4 (it reaches the [::] socket as ::ffff:127.0.0.1).
    const leecher = { passkey: bobPasskey, infoHash: hash, peerId: aPeerId('-qB4650-'), port: 51413, left: 1000 };
    const first = await announce(V4, { ...leecher, event: 'started' });
    expect(failureOf(first)).toBeUndefined();
    expect(first.body).toMatchObject({ complete: 0, incomplete: 1 });
    // A seeder over IPv6 gets the leecher as the IPv4 peer it is (peers, 6 bytes), not as ::ffff:127.0.0.1 in peers6.
    const seeder = await announce(V6, { passkey: adminPasskey, infoHash: hash, peerId: aPeerId('-lt2080-'), port: 6881, left: 0, event: 'started' });
    expect(failureOf(seeder)).toBeUndefined();
    expect(seeder.body).toMatchObject({ complete: 1, incomplete: 1 });
    expect(compactPeers(seeder.body.peers as Uint8Array)).toEqual(['127.0.0.1:51413']);
    expect(seeder.body.peers6).toBeUndefined();
    // And the leecher, announcing again over IPv4, gets the seeder in peers6.
    const again = await announce(V4, leecher);
    expect(compactPeers(again.body.peers as Uint8Array)).toEqual([]);
    expect(compactPeers(again.body.peers6 as Uint8Array, 18)).toEqual([`${'0'.repeat(31)}1:6881`]);
  });

  it('comes back after being killed (stale socket and lock), with no setup link, and stops cleanly', async () => {
    expect(await stop(server, 'SIGKILL')).toBeNull();
    expect(existsSync(join(home, 'data', 'run', 'cli.sock'))).toBe(true);
    server = npm(['start'], home);
    await waitFor(/OpenTracker listening on port 8080 \(IPv4 and IPv6\)/, server);
    await waitFor(/run on this server's database while it runs/, server);
    expect(server.output()).not.toMatch(/setup|first admin/i);
    const migrate = await npmRun(['run', 'cli', '--', 'migrate'], home);
    expect(migrate.output).toMatch(/migrations applied, schema up to date/);
    // npm itself dies of the signal; the server shuts down gracefully.
    await stop(server, 'SIGTERM');
    expect(server.output()).toMatch(/accounting flushed.*\n.*stopped cleanly/);
    expect(existsSync(join(home, 'data', 'run', 'cli.sock'))).toBe(false);
  });

  it('never sent the setup token in a response', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const body of bodies) expect(body).not.toContain(token);
  });
});
