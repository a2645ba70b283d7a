/**
 * A real transfer between real BitTorrent clients through our tracker, loopback only:
 * libtorrent 2.0 (Debian's python3-libtorrent) seeds, aria2 downloads, each announcing with
 * its own user's passkey from the .torrent the site serves. Proves the whole chain: upload
 * rewrite (private + source), download splice with the passkey, announce parsing as these
 * clients really send it (libtorrent's hex `key`, aria2's raw binary `key`), peer exchange
 * through the tracker, and the transfer credited to both users after a flush.
 *
 * Skips with a message when aria2c or python3-libtorrent is missing, unless CI is set (then
 * missing tools are a failure: .ci/run installs them).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceUrlFor, buildDownload } from '../../src/torrents/download.ts';
import { registerTorrent } from '../../src/torrents/register.ts';
import { sourceTagFor } from '../../src/torrents/source.ts';
import { aUser, type TestUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const PYTHON = '/usr/bin/python3';
const hasAria2 = spawnSync('aria2c', ['--version'], { stdio: 'ignore' }).status === 0;
const hasLibtorrent = spawnSync(PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' }).status === 0;
const missing = [!hasAria2 && 'aria2c (apt-get install aria2)', !hasLibtorrent && `${PYTHON} with libtorrent (apt-get install python3-libtorrent)`].filter(Boolean);
const inCi = Boolean(process.env.CI);
if (missing.length > 0 && !inCi) process.stderr.write(`real-clients e2e skipped: missing ${missing.join(' and ')}\n`);

/** make: content + a v1 .torrent; seed: a libtorrent session on 127.0.0.1 driven over stdin. */
const LT_SCRIPT = String.raw`
import json, os, sys, threading, time
import libtorrent as lt

def say(**kw):
    sys.stdout.write(json.dumps(kw) + "\n"); sys.stdout.flush()

if sys.argv[1] == "make":
    content_dir, name, size, out = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    flags = 0 if len(sys.argv) > 6 and sys.argv[6] == "hybrid" else lt.create_torrent.v1_only
    os.makedirs(content_dir, exist_ok=True)
    with open(os.path.join(content_dir, name), "wb") as f:
        f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(content_dir, name))
    ct = lt.create_torrent(fs, 65536, flags)
    ct.set_creator("libtorrent e2e")
    lt.set_piece_hashes(ct, content_dir)
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    say(event="made")
    sys.exit(0)

torrent, save_path = sys.argv[2], sys.argv[3]
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification | lt.alert.category_t.tracker_notification,
})
h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": save_path})
commands = []
def read_stdin():
    for line in sys.stdin:
        commands.append(line.strip())
    commands.append("stop")
threading.Thread(target=read_stdin, daemon=True).start()
replies = 0
stopping_since = None
while True:
    for a in ses.pop_alerts():
        if isinstance(a, lt.tracker_reply_alert):
            replies += 1
            if stopping_since is None:
                st = h.status()
                say(event="announce_ok", replies=replies, uploaded=st.total_payload_upload, downloaded=st.total_payload_download)
        elif isinstance(a, lt.tracker_error_alert):
            say(event="announce_error", msg=a.message())
        elif isinstance(a, lt.torrent_finished_alert) and stopping_since is None:
            say(event="finished", downloaded=h.status().total_payload_download)
    while commands:
        c = commands.pop(0)
        if c == "reannounce":
            h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
        elif c == "status":
            s = h.status()
            say(event="status", uploaded=s.total_payload_upload, state=str(s.state), peers=s.num_peers)
        elif c == "stop" and stopping_since is None:
            stopping_since = time.time()
            say(event="stopping", uploaded=h.status().total_payload_upload)
            ses.remove_torrent(h)
    if stopping_since is not None and time.time() - stopping_since > 1.5:
        say(event="stopped")
        break
    time.sleep(0.05)
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface LtEvent {
  event: string;
  [k: string]: unknown;
}

/** The seeder process: its JSON events, and a way to wait for one. */
class Seeder {
  readonly events: LtEvent[] = [];
  private waiters: { test: (e: LtEvent) => boolean; resolve: (e: LtEvent) => void }[] = [];
  stderr = '';

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let e: LtEvent;
      try {
        e = JSON.parse(line) as LtEvent;
      } catch {
        return;
      }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(e)) return true;
        w.resolve(e);
        return false;
      });
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
  }

  send(command: string): void {
    this.proc.stdin?.write(`${command}\n`);
  }

  next(test: (e: LtEvent) => boolean, ms: number, what: string): Promise<LtEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`libtorrent seeder: no ${what} within ${ms} ms; events ${JSON.stringify(this.events)} stderr ${this.stderr}`)), ms);
      this.waiters.push({
        test,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}

function run(cmd: string, args: string[], ms: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(p);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} did not finish within ${ms} ms:\n${out}`));
    }, ms);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const children: ChildProcess[] = [];
let t: TestApp;
let work: string;

describe.skipIf(missing.length > 0 && !inCi)('real BitTorrent clients through the tracker', () => {
  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`CI is set but ${missing.join(' and ')} is missing`);
    work = mkdtempSync(join(tmpdir(), 'ot-e2e-'));
    writeFileSync(join(work, 'lt.py'), LT_SCRIPT);
    t = await startTestApp();
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('libtorrent seeds, aria2 downloads: the file arrives byte-identical and both users are credited', async () => {
    const size = 3 * 1024 * 1024 + 12345;
    const seedDir = join(work, 'seed');
    const getDir = join(work, 'get');
    mkdirSync(getDir);
    const made = await run(PYTHON, [join(work, 'lt.py'), 'make', seedDir, 'payload.bin', String(size), join(work, 'original.torrent')], 20_000);
    expect(made.code, made.out).toBe(0);

    const seederUser: TestUser = await aUser(t.db);
    const leecherUser: TestUser = await aUser(t.db);
    const reg = await registerTorrent(t.db.prisma, t.app.ctx.events, { bytes: readFileSync(join(work, 'original.torrent')), uploaderId: seederUser.id, source: sourceTagFor(t.config.publicUrl) });
    const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: reg.id } });
    await expect.poll(() => t.app.ctx.torrents.byId(reg.id)).toBeDefined();
    const forUser = (u: TestUser) => buildDownload(row, announceUrlFor(t.config.publicUrl, u.passkey));
    writeFileSync(join(work, 'seeder.torrent'), forUser(seederUser));
    writeFileSync(join(work, 'leecher.torrent'), forUser(leecherUser));
    expect(announceUrlFor(t.config.publicUrl, leecherUser.passkey)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/announce\?passkey=[0-9a-f]{32}$/);

    const seeder = new Seeder(spawn(PYTHON, [join(work, 'lt.py'), 'seed', join(work, 'seeder.torrent'), seedDir], { stdio: ['pipe', 'pipe', 'pipe'] }));
    children.push(seeder.proc);
    await seeder.next((e) => e.event === 'announce_ok', 15_000, 'successful announce');
    const swarm = (await t.app.ctx.swarm.scrape([Buffer.from(row.infoHash, 'hex').toString('latin1')]))[0];
    expect(swarm?.seeders).toBe(1);

    const port = await freePort();
    const aria = await run(
      'aria2c',
      [
        '--dir', getDir,
        '--seed-time=0.1', // minutes: seed 6 s, so aria2 announces `completed` (with 0 it sends only `stopped`)
        '--enable-dht=false', '--enable-dht6=false', '--enable-peer-exchange=false', '--bt-enable-lpd=false',
        `--listen-port=${port}`,
        '--bt-stop-timeout=30',
        '--file-allocation=none',
        '--summary-interval=0', '--console-log-level=warn', '--no-conf=true',
        join(work, 'leecher.torrent'),
      ],
      40_000,
    );
    expect(aria.code, aria.out).toBe(0);
    expect(readFileSync(join(getDir, 'payload.bin')).equals(readFileSync(join(seedDir, 'payload.bin')))).toBe(true);

    // The seeder reports its upload on the next announce; aria2 reported on completed/stopped.
    const before = seeder.events.filter((e) => e.event === 'announce_ok').length;
    seeder.send('reannounce');
    const reply = await seeder.next((e) => e.event === 'announce_ok' && (e.replies as number) > before, 10_000, 're-announce reply');
    expect(reply.uploaded as number).toBeGreaterThanOrEqual(size);

    await t.app.ctx.flusher.flush();
    const [seederRow, leecherRow] = await Promise.all([
      t.db.prisma.user.findUniqueOrThrow({ where: { id: seederUser.id } }),
      t.db.prisma.user.findUniqueOrThrow({ where: { id: leecherUser.id } }),
    ]);
    expect(leecherRow.downloaded).toBeGreaterThanOrEqual(BigInt(size));
    expect(seederRow.uploaded).toBeGreaterThanOrEqual(BigInt(size));
    const snatch = await t.db.prisma.snatch.findUnique({ where: { userId_torrentId: { userId: leecherUser.id, torrentId: reg.id } } });
    const torrentRow = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: reg.id }, select: { timesCompleted: true } });
    expect(torrentRow.timesCompleted).toBe(1);
    expect(snatch?.completedAt).not.toBeNull();

    seeder.send('stop');
    await seeder.next((e) => e.event === 'stopped', 10_000, 'stop');
  });
  it('hybrid (v1 + v2) between two libtorrent sessions: registered under both hashes, transferred, credited once (not per hash)', async () => {
    const size = 2 * 1024 * 1024 + 777;
    const seedDir = join(work, 'hseed');
    const getDir = join(work, 'hget');
    mkdirSync(getDir);
    const made = await run(PYTHON, [join(work, 'lt.py'), 'make', seedDir, 'hybrid.bin', String(size), join(work, 'hybrid.torrent'), 'hybrid'], 20_000);
    expect(made.code, made.out).toBe(0);
    const seederUser = await aUser(t.db);
    const leecherUser = await aUser(t.db);
    const reg = await registerTorrent(t.db.prisma, t.app.ctx.events, { bytes: readFileSync(join(work, 'hybrid.torrent')), uploaderId: seederUser.id, source: sourceTagFor(t.config.publicUrl) });
    expect(reg.parsed.version).toBe('hybrid');
    const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: reg.id } });
    await expect.poll(() => t.app.ctx.torrents.byId(reg.id)?.keys.length).toBe(2);
    writeFileSync(join(work, 'hseeder.torrent'), buildDownload(row, announceUrlFor(t.config.publicUrl, seederUser.passkey)));
    writeFileSync(join(work, 'hleecher.torrent'), buildDownload(row, announceUrlFor(t.config.publicUrl, leecherUser.passkey)));

    const seeder = new Seeder(spawn(PYTHON, [join(work, 'lt.py'), 'seed', join(work, 'hseeder.torrent'), seedDir], { stdio: ['pipe', 'pipe', 'pipe'] }));
    children.push(seeder.proc);
    await seeder.next((e) => e.event === 'announce_ok', 15_000, 'seeder announce');
    const leecher = new Seeder(spawn(PYTHON, [join(work, 'lt.py'), 'seed', join(work, 'hleecher.torrent'), getDir], { stdio: ['pipe', 'pipe', 'pipe'] }));
    children.push(leecher.proc);
    await leecher.next((e) => e.event === 'finished', 30_000, 'download finished');
    expect(readFileSync(join(getDir, 'hybrid.bin')).equals(readFileSync(join(seedDir, 'hybrid.bin')))).toBe(true);

    // Both report their totals; libtorrent announces a hybrid under the v1 and the v2 hash.
    for (const client of [leecher, seeder]) {
      const before = client.events.filter((e) => e.event === 'announce_ok').length;
      client.send('reannounce');
      await client.next((e) => e.event === 'announce_ok' && (e.replies as number) > before, 10_000, 're-announce reply');
    }
    await t.app.ctx.flusher.flush();
    const [s, l] = await Promise.all([seederUser, leecherUser].map((u) => t.db.prisma.user.findUniqueOrThrow({ where: { id: u.id } })));
    expect(l?.downloaded).toBeGreaterThanOrEqual(BigInt(size));
    expect(s?.uploaded).toBeGreaterThanOrEqual(BigInt(size));
    // Credited once, not once per hash (allow protocol slack, never double).
    expect(l?.downloaded).toBeLessThan(BigInt(Math.ceil(size * 1.5)));
    expect(s?.uploaded).toBeLessThan(BigInt(Math.ceil(size * 1.5)));
    for (const client of [leecher, seeder]) client.send('stop');
    await Promise.all([leecher, seeder].map((c) => c.next((e) => e.event === 'stopped', 10_000, 'stop')));
  });
});
