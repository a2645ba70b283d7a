/**
 * Debian's python3-libtorrent driven from tests: a small Python script that makes content and a
 * .torrent (`make`) or runs one libtorrent session on 127.0.0.1 (`seed`: seeds what it has,
 * downloads what it lacks) driven over stdin (`reannounce`, `status`, `stop`) and reporting JSON
 * events on stdout (announce replies and errors with the tracker's failure reason, finished,
 * stopped). Used by the e2e suites (test/e2e/*.e2e.test.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const PYTHON = '/usr/bin/python3';
export const hasLibtorrent = spawnSync(PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' }).status === 0;

/** Every process the helpers started, for the suite's afterAll. */
export const children: ChildProcess[] = [];

export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Writes the script into `dir`; returns its path. */
export function writeLtScript(dir: string): string {
  const path = join(dir, 'lt.py');
  writeFileSync(path, LT_SCRIPT);
  return path;
}

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
            say(event="announce_error", msg=a.message(), reason=a.failure_reason())
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

export interface LtEvent {
  event: string;
  [k: string]: unknown;
}

/** A libtorrent session process: its JSON events, and a way to wait for one. */
export class Seeder {
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

export function run(cmd: string, args: string[], ms: number): Promise<{ code: number | null; out: string }> {
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


/** Starts `seed` on a .torrent with its save directory. */
export function ltSession(script: string, torrent: string, saveDir: string): Seeder {
  const s = new Seeder(spawn(PYTHON, [script, 'seed', torrent, saveDir], { stdio: ['pipe', 'pipe', 'pipe'] }));
  children.push(s.proc);
  return s;
}
